import { buildSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/app.ts';

export interface StartedSimulator {
  baseUrl: string;
  sim: Simulator;
  /** A fresh company access token (password grant with the tenant's request token). */
  companyToken(): Promise<string>;
  /** A fresh app access token (client_credentials), for ESS subscriptions. */
  appToken(): Promise<string>;
  /** Sets simulator knobs (PATCH /_sim/config); throws unless the simulator took them. */
  setKnobs(patch: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** Starts an in-process simulator on 127.0.0.1 and a free port. Close it in afterEach/afterAll. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<StartedSimulator> {
  const sim = await buildSimulator(options);
  const baseUrl = await sim.listen({ port: 0 });
  const { tenant } = sim.ctx;
  const token = async (form: Record<string, string>): Promise<string> => {
    const res = await fetch(`${baseUrl}/oauth2/v0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: tenant.clientId, client_secret: tenant.clientSecret, ...form }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (res.status !== 200 || !body.access_token)
      throw new Error(`simulator token request failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  };
  return {
    baseUrl,
    sim,
    companyToken: () =>
      token({
        grant_type: 'password',
        username: tenant.companyId,
        password: tenant.requestToken,
        credtype: 'authtoken',
      }),
    appToken: () => token({ grant_type: 'client_credentials' }),
    setKnobs: async (patch) => {
      const res = await fetch(`${baseUrl}/_sim/config`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      });
      if (res.status !== 200) throw new Error(`PATCH /_sim/config: ${res.status} ${await res.text()}`);
    },
    close: () => sim.close(),
  };
}
