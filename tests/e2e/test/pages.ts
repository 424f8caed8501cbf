import type { HeadlessLogin } from '@gatehouse/testkit';
import type { Page } from 'playwright-core';

/**
 * In a real browser, a person at our authorization server's pages: signs in when asked (a session
 * may already exist), presses Allow on the consent page, then waits for the redirect back to the
 * client's origin.
 */
export async function signInAndConsent(
  page: Page,
  options: { issuer: string; login: HeadlessLogin; returnTo: string },
): Promise<void> {
  await page.waitForURL((url) => url.origin === options.issuer);
  const username = page.getByLabel('Username');
  const allow = page.getByRole('button', { name: 'Allow' });
  await username.or(allow).first().waitFor();
  if (await username.isVisible()) {
    await username.fill(options.login.username);
    await page.getByLabel('Password').fill(options.login.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await allow.click();
  await page.waitForURL((url) => url.origin === options.returnTo);
}
