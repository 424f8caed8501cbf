/**
 * A stand-in for the user's browser, for `gatehouse-doctor --login` in tests: the doctor runs
 * `$BROWSER <url>`, and this signs in on the authorization server's real pages (ours or
 * Keycloak's) as DOCTOR_LOGIN_USERNAME / DOCTOR_LOGIN_PASSWORD, consents, and delivers the
 * redirect to the doctor's loopback listener, as a browser would.
 */
import { UserAgent } from '@gatehouse/testkit';

const url = process.argv[2];
const username = process.env.DOCTOR_LOGIN_USERNAME;
const password = process.env.DOCTOR_LOGIN_PASSWORD;
if (!url || !username || !password) {
  console.error('usage: DOCTOR_LOGIN_USERNAME=… DOCTOR_LOGIN_PASSWORD=… headless-browser.ts <url>');
  process.exit(2);
}
const atCallback = (target: string) => {
  const parsed = new URL(target);
  return parsed.hostname === '127.0.0.1' && parsed.pathname === '/callback';
};
const page = await new UserAgent().authorize(url, atCallback, { username, password });
if (!atCallback(page.url)) {
  console.error(`the sign-in stopped at ${page.url} (${page.status})`);
  process.exit(1);
}
await fetch(page.url);
