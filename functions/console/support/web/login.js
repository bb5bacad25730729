// Sign-in page: the device flow (RFC 8628) through the console's own
// endpoints, which keep the token in an HttpOnly cookie.
'use strict';
const $ = (id) => document.getElementById(id);

async function signIn() {
  $('login-error').textContent = '';
  const r = await fetch('/console/login', { method: 'POST' });
  const d = await r.json();
  if (!r.ok) { $('login-error').textContent = d.detail || d.error_description || 'sign-in failed'; return; }
  $('device').hidden = false;
  $('user-code').textContent = d.user_code;
  $('verify-link').href = d.verification_uri_complete;
  document.body.dataset.userCode = d.user_code;
  document.body.dataset.verify = d.verification_uri_complete;
  let interval = Math.max(1, d.interval || 1) * 1000;
  for (;;) {
    await new Promise((res) => setTimeout(res, interval));
    const t = await fetch('/console/login/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ device_code: d.device_code }),
    });
    if (t.ok) { location.reload(); return; }
    const e = await t.json().catch(() => ({}));
    if (e.error === 'authorization_pending') continue;
    if (e.error === 'slow_down') { interval += 1000; continue; }
    $('device').hidden = true;
    $('login-error').textContent = t.status === 403 ? 'Цей обліковий запис не має ролі підтримки.' : (e.error_description || e.detail || 'Вхід не вдався.');
    return;
  }
}

$('sign-in').addEventListener('click', () => { signIn().catch((e) => { $('login-error').textContent = String(e); }); });
