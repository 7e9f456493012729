// Genesys Cloud regions and the two hosts each one has: login.{env} (OAuth) and api.{env} (REST).
// A custom base URL serves both from one origin (the simulator, private endpoints); separate
// custom login and API URLs cover proxies that split them.

export interface GenesysRegion {
  /** AWS-style region id, as the Genesys SDKs name them (us_east_1 → us-east-1). */
  id: string;
  label: string;
  /** The {env} of login.{env} and api.{env}. */
  env: string;
}

/** Every Genesys Cloud region (../shared/GENESYS-API.md, cross-checked with the SDKs' PureCloudRegionHosts). */
export const REGIONS: readonly GenesysRegion[] = Object.freeze([
  { id: 'us-east-1', label: 'Americas (US East)', env: 'mypurecloud.com' },
  { id: 'us-east-2', label: 'Americas (US East 2, FedRAMP)', env: 'use2.us-gov-pure.cloud' },
  { id: 'us-west-2', label: 'Americas (US West)', env: 'usw2.pure.cloud' },
  { id: 'ca-central-1', label: 'Americas (Canada)', env: 'cac1.pure.cloud' },
  { id: 'sa-east-1', label: 'Americas (São Paulo)', env: 'sae1.pure.cloud' },
  { id: 'mx-central-1', label: 'Americas (Mexico)', env: 'mxc1.pure.cloud' },
  { id: 'eu-west-1', label: 'EMEA (Dublin)', env: 'mypurecloud.ie' },
  { id: 'eu-west-2', label: 'EMEA (London)', env: 'euw2.pure.cloud' },
  { id: 'eu-central-1', label: 'EMEA (Frankfurt)', env: 'mypurecloud.de' },
  { id: 'eu-central-2', label: 'EMEA (Zurich)', env: 'euc2.pure.cloud' },
  { id: 'eusc-de-east-1', label: 'EMEA (EU Sovereign Cloud)', env: 'edee1.eusc-pure.cloud' },
  { id: 'me-central-1', label: 'EMEA (UAE)', env: 'mec1.pure.cloud' },
  { id: 'ap-south-1', label: 'Asia Pacific (Mumbai)', env: 'aps1.pure.cloud' },
  { id: 'ap-northeast-1', label: 'Asia Pacific (Tokyo)', env: 'mypurecloud.jp' },
  { id: 'ap-northeast-2', label: 'Asia Pacific (Seoul)', env: 'apne2.pure.cloud' },
  { id: 'ap-northeast-3', label: 'Asia Pacific (Osaka)', env: 'apne3.pure.cloud' },
  { id: 'ap-southeast-1', label: 'Asia Pacific (Southeast 1)', env: 'apse1.pure.cloud' },
  { id: 'ap-southeast-2', label: 'Asia Pacific (Sydney)', env: 'mypurecloud.com.au' },
]);

export const DEFAULT_REGION = 'us-east-1';
/** The region value that means "use the custom URLs". */
export const CUSTOM_REGION = 'custom';

export interface EndpointSettings {
  /** A REGIONS id, an {env} such as mypurecloud.ie, or 'custom'. */
  region?: string;
  /** Custom: one origin serving /oauth/token and /api/v2/... (e.g. the simulator). */
  baseUrl?: string;
  /** Custom: login origin (overrides baseUrl for the token endpoint). */
  loginUrl?: string;
  /** Custom: API origin (overrides baseUrl for REST calls). */
  apiUrl?: string;
}

export interface GenesysEndpoints {
  /** https://login.{env} (no trailing slash). */
  loginBase: string;
  /** https://api.{env} (no trailing slash); ApiRequest.path is appended. */
  apiBase: string;
  /** <loginBase>/oauth/token */
  tokenUrl: string;
  /** The region id, or 'custom'. */
  region: string;
}

export function findRegion(idOrEnv: string): GenesysRegion | undefined {
  const v = idOrEnv.trim().toLowerCase().replace(/_/g, '-');
  return REGIONS.find((r) => r.id === v || r.env === v);
}

/** Resolves the login and API origins; throws a clear Error for an unknown region or a bad URL. */
export function resolveEndpoints(s: EndpointSettings): GenesysEndpoints {
  const region = (s.region || '').trim() || (s.baseUrl || s.loginUrl || s.apiUrl ? CUSTOM_REGION : DEFAULT_REGION);
  if (region === CUSTOM_REGION) {
    const base = s.baseUrl?.trim() ? origin(s.baseUrl, 'base URL') : undefined;
    const loginBase = s.loginUrl?.trim() ? origin(s.loginUrl, 'login URL') : base;
    const apiBase = s.apiUrl?.trim() ? origin(s.apiUrl, 'API URL') : base;
    if (!loginBase || !apiBase) throw new Error('custom region needs a base URL (or both a login URL and an API URL)');
    return { loginBase, apiBase, tokenUrl: `${loginBase}/oauth/token`, region };
  }
  const r = findRegion(region);
  if (!r) throw new Error(`unknown Genesys Cloud region "${region}"`);
  return { loginBase: `https://login.${r.env}`, apiBase: `https://api.${r.env}`, tokenUrl: `https://login.${r.env}/oauth/token`, region: r.id };
}

/** An http(s) URL without trailing slash; a path prefix is kept (for proxies mounted below /). */
function origin(raw: string, what: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error(`invalid custom ${what} "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`custom ${what} must be http(s): "${raw}"`);
  if (u.username || u.password) throw new Error(`custom ${what} must not carry credentials`);
  return (u.origin + u.pathname).replace(/\/+$/, '');
}
