// The example's app code: what a site writes to use @spoor/browser.
import spoor from '@spoor/browser';

const params = new URLSearchParams(location.search);

// The relay: `spoor up` listens on 127.0.0.1:8080 by default. A site would put
// it under a first-party path of its own (e.g. endpoint: location.origin, path: '/t/e').
spoor.init({
  writeKey: params.get('writeKey') || 'example-write-key',
  endpoint: params.get('endpoint') || 'http://127.0.0.1:8080',
  // Consent is required by default: nothing is stored or sent until the banner is answered.
  // A decision made on an earlier visit is remembered.
  flushInterval: 2000,
  debug: true,
});

document.getElementById('accept').onclick = () => {
  spoor.setConsent(['analytics']);
  document.getElementById('banner').hidden = true;
};
document.getElementById('decline').onclick = () => {
  spoor.optOut();
  document.getElementById('banner').hidden = true;
};
document.getElementById('add').onclick = (event) => {
  spoor.track('add_to_cart', { productId: event.target.dataset.product, quantity: 1, price: 89.9, currency: 'EUR' });
};
document.getElementById('login').onclick = () => spoor.identify('u456', { plan: 'pro' });
document.getElementById('logout').onclick = () => spoor.reset();
document.getElementById('spa').onclick = () => history.pushState({}, '', 'checkout'); // an automatic page view
document.getElementById('leave').onclick = () => spoor.track('checkout_started', { items: 1, cartValue: 89.9, currency: 'EUR' });

setInterval(() => {
  document.getElementById('stats').textContent = JSON.stringify(spoor.stats(), null, 2);
}, 500);
