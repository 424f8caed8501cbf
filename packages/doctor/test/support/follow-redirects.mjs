// $BROWSER for the CLI tests: testkit's misconfigured server approves at once, so "signing in" is
// following its redirect to the doctor's loopback callback, as a browser would.
let url = process.argv[2];
for (let hop = 0; hop < 10 && url; hop++) {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (!location) break;
  url = new URL(location, url).href;
  if (new URL(url).pathname === '/callback') {
    await fetch(url);
    break;
  }
}
