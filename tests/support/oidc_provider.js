// A real OpenID Connect provider on loopback for the web app's tests (npm `oidc-provider`, package-lock.json).
// Usage: node tests/support/oidc_provider.js PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Its development sign-in page takes any login: the login is the account, and its `email` claim is the login
// itself, so a test signs in "as" a staff member's work e-mail. Prints "ready <issuer>" when it listens.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // the e-mail claim in the ID token, as Entra ID sends it
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: id.split('@')[0] };
      },
    };
  },
  cookies: { keys: ['pprflow-test-only-cookie-key'] },
});
provider.proxy = false;
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
