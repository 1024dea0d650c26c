// A real OpenID Connect provider for signoff's tests (driven by tests/idp/provider.py).
// Env: IDP_PORT (0 = any free port), IDP_ISSUER (default http://127.0.0.1:<port>),
// IDP_CLIENTS (JSON list of client metadata), IDP_ACCOUNTS (JSON {login: {email, email_verified, name}}).
// Prints "ready <issuer>" once it answers.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

// Known, expected notices (Node 20 is older than it prefers; dev-only login form and memory store are
// the point here): drop them so a real warning stands out. Set before the import, which warns.
const warn = console.warn;
console.warn = (msg, ...rest) =>
  /Unsupported runtime|development-only|devInteractions/.test(String(msg)) || warn(msg, ...rest);
const { default: Provider, interactionPolicy } = await import('oidc-provider');

const accounts = JSON.parse(process.env.IDP_ACCOUNTS ?? '{}');
const server = createServer();
await new Promise((resolve) => server.listen(Number(process.env.IDP_PORT ?? 0), '127.0.0.1', resolve));
const issuer = process.env.IDP_ISSUER || `http://127.0.0.1:${server.address().port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
// findAccount gives undefined for an unknown login: ask to sign in again (the default policy would
// carry on to consent and fail there with a server_error), so no code is issued for it.
const policy = interactionPolicy.base();
policy.get('login').checks.push(new interactionPolicy.Check('no_account', 'unknown account', (ctx) => !ctx.oidc.account));

const provider = new Provider(issuer, {
  clients: JSON.parse(process.env.IDP_CLIENTS ?? '[]'),
  findAccount: (ctx, id) => Object.hasOwn(accounts, id)
    ? { accountId: id, claims: () => ({ sub: id, ...accounts[id] }) } : undefined,
  interactions: { policy },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Put the scope's claims in the id_token too, not only at userinfo (the default when an access token is issued).
  conformIdTokenClaims: false,
  ttl: { AccessToken: 3600, IdToken: 3600, Interaction: 3600, Session: 86400, Grant: 86400 }, // fixed: no notices
  pkce: { required: () => true }, // S256 is the only method oidc-provider 9 accepts
  // Fresh keys per run instead of the package's published dev keys.
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
  // The relying party shares the host (cookies ignore the port): names that cannot clash with its own.
  cookies: {
    keys: [randomBytes(32).toString('hex')],
    names: { session: 'idp_session', interaction: 'idp_interaction', resume: 'idp_interaction_resume' },
  },
});
provider.on('server_error', (ctx, error) => console.error(error));
server.on('request', provider.callback());
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
console.log(`ready ${issuer}`);
