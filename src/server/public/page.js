/* global document, location, window */
// The drop page: a list of recent drops and a live view of one (#drop=ID). No build step.
// Every value from a drop (file names, error messages) is set with textContent, never as HTML.
'use strict';
(function () {
  var FINAL = { complete: true, cancelled: true, rejected: true };
  var STATES = [
    'pending',
    'manager_wait',
    'identity_done',
    'extension_batched',
    'extension_submitted',
    'done',
    'unchanged',
    'invalid',
    'unsupported',
    'identity_failed',
    'extension_failed',
    'timed_out',
    'cancelled',
  ];
  var current = null;
  var timer = null;
  var lastFailed = -1;
  // What the decision panel shows depends on the status: reloaded when it changes.
  var lastStatus = null;
  var lastDecisions = -1;
  var peopleNext = null;
  var planPage = 1;
  var planPages = 1;
  // Which decision buttons a status offers (docs/operations.md#decisions).
  var ACTIONS = {
    held: ['approve', 'cancel'],
    planned: ['run', 'cancel'],
    paused: ['resume', 'cancel'],
    running: ['pause', 'cancel'],
  };

  function $(id) {
    return document.getElementById(id);
  }
  function getJson(url) {
    return fetch(url, { headers: { accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error(url + ': ' + r.status);
      return r.json();
    });
  }
  function cell(tr, text) {
    var td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    tr.appendChild(td);
    return td;
  }
  function pct(done, total) {
    return total > 0 ? Math.floor((done / total) * 100) : done >= 0 && total === 0 ? 100 : 0;
  }
  function when(ms) {
    return ms ? new Date(ms).toLocaleString() : '';
  }
  // Planned, held and paused drops move no row until an operator acts: no ETA.
  var WAITING = { planned: true, held: true, paused: true };
  var OUTCOME_TEXT = { partial: ' (some rows failed)', failed: ' (every row failed)' };
  function statusText(d) {
    return d.status + ((d.outcome && OUTCOME_TEXT[d.outcome]) || '');
  }
  function statusClass(d) {
    return 'status-' + d.status + (d.outcome ? ' outcome-' + d.outcome : '');
  }
  function eta(s) {
    if (s == null) return '?';
    if (s < 60) return Math.ceil(s) + ' s';
    return Math.floor(s / 60) + ' min ' + Math.ceil(s % 60) + ' s';
  }

  // One API family's limiter: the rate in force (found or fixed) and the last 429.
  function rateText(name, r) {
    if (!r || r.rps == null) return name + ': no calls yet';
    var text = name + ' ' + (r.rps === 0 ? 'no limit' : r.rps.toFixed(1) + '/s') + ' (' + r.mode + ')';
    if (r.blockedUntil) text += ', paused for Retry-After';
    return text + (r.last429At ? ', last 429 ' + when(r.last429At) : ', no 429');
  }

  function renderList(drops) {
    var body = $('drops').tBodies[0];
    body.textContent = '';
    drops.forEach(function (d) {
      var tr = document.createElement('tr');
      tr.className = 'link';
      tr.dataset.dropId = d.dropId;
      cell(tr, d.dropId);
      cell(tr, d.file);
      cell(tr, statusText(d)).className = statusClass(d);
      cell(tr, d.rows == null ? '…' : pct(d.settled, d.rows) + '%');
      cell(tr, d.rows == null ? '' : d.rows);
      cell(tr, d.failed);
      cell(tr, when(d.createdAt));
      tr.addEventListener('click', function () {
        location.hash = 'drop=' + encodeURIComponent(d.dropId);
      });
      body.appendChild(tr);
    });
  }
  function loadList() {
    getJson('/drops?limit=50')
      .then(function (b) {
        renderList(b.drops);
      })
      .catch(function () {});
  }

  // Rows that got through fill the bar; failed rows get a red part of their own.
  function bar(name, stage) {
    var p = pct(stage.done, stage.total);
    var f = stage.failed > 0 ? Math.max(pct(stage.failed, stage.total), 1) : 0;
    $('bar-' + name).style.width = p + '%';
    $('bar-' + name).dataset.percent = String(p);
    $('bar-' + name + '-failed').style.width = Math.min(f, 100 - p) + '%';
    $('bar-' + name + '-failed').dataset.percent = String(f);
    $('bar-' + name + '-text').textContent =
      stage.done + ' / ' + stage.total + ' (' + p + '%)' + (stage.failed > 0 ? ', ' + stage.failed + ' failed' : '');
  }

  function renderDetail(d) {
    $('detail-id').textContent = d.dropId;
    $('detail-file').textContent = d.file;
    var status = $('drop-status');
    status.textContent = statusText(d);
    status.className = statusClass(d);
    $('drop-reason').textContent = d.concurPaused
      ? '— paused: ' + d.concurPaused.message
      : d.reason
        ? '— ' + d.reason
        : '';
    bar('identity', d.stages.identity);
    bar('extensions', d.stages.extensions);
    bar('settled', d.stages.settled);
    $('settled-percent').textContent = pct(d.stages.settled.done, d.stages.settled.total) + '%';
    $('drop-rate').textContent = d.rowsPerSecond.toFixed(1);
    $('drop-eta').textContent = FINAL[d.status] ? 'done' : WAITING[d.status] ? '—' : eta(d.etaSeconds);
    if (d.rateLimits)
      $('rate-limits').textContent =
        rateText('Identity', d.rateLimits.identity) + ' · ' + rateText('UPS', d.rateLimits.ups);
    var body = $('counts').tBodies[0];
    body.textContent = '';
    STATES.forEach(function (s) {
      var n = d.counts[s] || 0;
      if (n === 0) return;
      var tr = document.createElement('tr');
      cell(tr, s);
      cell(tr, n);
      body.appendChild(tr);
    });
    var t = [];
    Object.keys(d.timings).forEach(function (k) {
      t.push(k.replace(/At$/, '') + ': ' + when(d.timings[k]));
    });
    $('timings').textContent = t.join(' · ');
    if (d.failed !== lastFailed) {
      lastFailed = d.failed;
      loadFailed(d.dropId);
    }
    renderDecide(d);
  }

  // --- decisions: the buttons, who a held drop would (de)activate, a planned drop's plan ---
  function renderDecide(d) {
    var offered = ACTIONS[d.status] || [];
    ['approve', 'run', 'resume', 'pause', 'cancel'].forEach(function (a) {
      $('act-' + a).hidden = offered.indexOf(a) < 0;
    });
    if (d.status !== lastStatus) {
      lastStatus = d.status;
      $('people-panel').hidden = d.status !== 'held';
      $('plan-panel').hidden = d.status !== 'planned';
      if (d.status === 'held') loadPeople(d.dropId, 0, true);
      if (d.status === 'planned') loadPlan(d.dropId, 1);
    }
    var decisions = d.decisions || [];
    if (decisions.length !== lastDecisions) {
      lastDecisions = decisions.length;
      renderDecisions(decisions);
    }
  }

  function renderDecisions(decisions) {
    $('decisions-panel').hidden = decisions.length === 0;
    var body = $('decisions').tBodies[0];
    body.textContent = '';
    decisions.forEach(function (x) {
      var tr = document.createElement('tr');
      cell(tr, x.at);
      cell(tr, x.action);
      cell(tr, x.by + ' (' + x.via + ')');
      cell(tr, [x.ip, x.host, x.userAgent].filter(Boolean).join(' · '));
      cell(tr, x.previous + ' → ' + x.status);
      body.appendChild(tr);
    });
  }

  // A person's row of the people and plan tables: row, action, userName, employee number.
  function personRow(p) {
    var tr = document.createElement('tr');
    cell(tr, p.row);
    cell(tr, p.action).className = 'action-' + p.action;
    cell(tr, p.userName);
    cell(tr, p.employeeNumber);
    return tr;
  }

  function loadPeople(id, after, fresh) {
    getJson('/drops/' + encodeURIComponent(id) + '/people?limit=100&after=' + after)
      .then(function (b) {
        if (id !== current) return;
        var body = $('people').tBodies[0];
        if (fresh) body.textContent = '';
        b.people.forEach(function (p) {
          var tr = personRow(p);
          cell(tr, [p.givenName, p.familyName].filter(Boolean).join(' '));
          body.appendChild(tr);
        });
        peopleNext = b.next == null ? null : b.next;
        $('people-more').hidden = peopleNext === null;
        $('people-count').textContent =
          '(' + b.deactivations + ' rows set active=false' + (b.planned ? '; from the plan' : '') + ')';
      })
      .catch(function () {});
  }

  function changeText(c) {
    function show(v) {
      return v == null || v === '' ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v);
    }
    return c.field + ': ' + show(c.old) + ' → ' + show(c.new);
  }

  function loadPlan(id, page) {
    getJson('/drops/' + encodeURIComponent(id) + '/plan?size=50&page=' + page)
      .then(function (b) {
        if (id !== current) return;
        planPage = b.page;
        planPages = b.pages;
        var c = b.counts || {};
        $('plan-counts').textContent = ['create', 'update', 'unchanged', 'deactivate', 'invalid', 'conflict']
          .map(function (k) {
            return k + ' ' + (c[k] || 0);
          })
          .concat(c.willFail ? ['will fail ' + c.willFail] : [])
          .join(' · ');
        var body = $('plan').tBodies[0];
        body.textContent = '';
        b.planned.forEach(function (p) {
          var tr = personRow(p);
          cell(tr, (p.changes || []).map(changeText).join('; '));
          cell(
            tr,
            [p.error]
              .concat(
                (p.flags || []).map(function (f) {
                  return f.code + ': ' + f.message;
                }),
              )
              .filter(Boolean)
              .join('; '),
          );
          body.appendChild(tr);
        });
        $('plan-page').textContent = 'page ' + b.page + ' of ' + b.pages + ' (' + b.rows + ' rows)';
        $('plan-prev').disabled = b.page <= 1;
        $('plan-next').disabled = b.page >= b.pages;
      })
      .catch(function () {
        $('plan-page').textContent = 'no plan recorded';
      });
  }

  // A decision is a same-origin JSON POST: the server's cross-site guard refuses forms.
  function decideOn(action) {
    var id = current;
    if (!id) return;
    var button = $('act-' + action);
    if (action === 'cancel' && button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = 'Confirm: cancel the drop';
      return;
    }
    button.dataset.armed = '';
    button.textContent = 'Cancel drop';
    $('decide-result').textContent = action + '…';
    fetch('/drops/' + encodeURIComponent(id) + '/' + action, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
    })
      .then(function (r) {
        return r.json().then(function (b) {
          return { ok: r.ok, body: b };
        });
      })
      .then(function (res) {
        if (id !== current) return;
        $('decide-result').textContent = res.ok
          ? action +
            ': ' +
            res.body.previous +
            ' → ' +
            res.body.status +
            (res.body.reason ? ' (' + res.body.reason + ')' : '')
          : 'refused: ' + ((res.body.error && res.body.error.message) || res.body.error);
        clearTimeout(timer);
        poll();
      })
      .catch(function (err) {
        $('decide-result').textContent = 'failed: ' + err.message;
      });
  }

  function loadFailed(id) {
    getJson('/drops/' + encodeURIComponent(id) + '/rows?limit=200')
      .then(function (b) {
        if (id !== current) return;
        $('failed-count').textContent =
          '(' + b.total + (b.truncated ? ', first ' + b.rows.length + ' shown' : '') + ')';
        var body = $('failed').tBodies[0];
        body.textContent = '';
        b.rows.forEach(function (r) {
          var tr = document.createElement('tr');
          [r.row, r.userName, r.employeeNumber, r.state, r.errorCode, r.message, r.schemaPath].forEach(function (v) {
            cell(tr, v);
          });
          body.appendChild(tr);
        });
      })
      .catch(function () {});
  }

  function poll() {
    if (!current) return;
    var id = current;
    getJson('/drops/' + encodeURIComponent(id))
      .then(function (d) {
        if (id !== current) return;
        renderDetail(d);
        timer = setTimeout(poll, FINAL[d.status] ? 5000 : 1000);
      })
      .catch(function () {
        timer = setTimeout(poll, 2000);
      });
  }

  function route() {
    var m = /drop=([A-Za-z0-9_-]+)/.exec(location.hash);
    clearTimeout(timer);
    current = m ? decodeURIComponent(m[1]) : null;
    lastFailed = -1;
    lastStatus = null;
    lastDecisions = -1;
    $('decide-result').textContent = '';
    $('detail').hidden = !current;
    if (current) {
      $('report-csv').href = '/drops/' + current + '/report?format=csv';
      $('report-jsonl').href = '/drops/' + current + '/report?format=jsonl';
      poll();
    }
  }

  $('upload').addEventListener('submit', function (e) {
    e.preventDefault();
    var file = $('upload-file').files[0];
    if (!file) return;
    $('upload-result').textContent = 'uploading…';
    fetch('/drops?filename=' + encodeURIComponent(file.name), {
      method: 'POST',
      body: file,
      headers: { 'content-type': 'application/octet-stream' },
    })
      .then(function (r) {
        return r.json().then(function (b) {
          return { status: r.status, body: b };
        });
      })
      .then(function (res) {
        if (res.status === 200 || res.status === 201) {
          $('upload-result').textContent = (res.status === 200 ? 'already ingested: ' : 'ingested: ') + res.body.dropId;
          location.hash = 'drop=' + res.body.dropId;
          loadList();
        } else {
          $('upload-result').textContent = 'rejected: ' + ((res.body.error && res.body.error.message) || res.status);
        }
      })
      .catch(function (err) {
        $('upload-result').textContent = 'failed: ' + err.message;
      });
  });

  ['approve', 'run', 'resume', 'pause', 'cancel'].forEach(function (a) {
    $('act-' + a).addEventListener('click', function () {
      decideOn(a);
    });
  });
  $('people-more').addEventListener('click', function () {
    if (current && peopleNext !== null) loadPeople(current, peopleNext, false);
  });
  $('plan-prev').addEventListener('click', function () {
    if (current && planPage > 1) loadPlan(current, planPage - 1);
  });
  $('plan-next').addEventListener('click', function () {
    if (current && planPage < planPages) loadPlan(current, planPage + 1);
  });

  window.addEventListener('hashchange', route);
  route();
  loadList();
  setInterval(loadList, 5000);
})();
