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

  window.addEventListener('hashchange', route);
  route();
  loadList();
  setInterval(loadList, 5000);
})();
