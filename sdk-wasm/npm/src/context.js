// Context the browser knows without asking the page: collected once at start
// (device, locale, timezone, screen) or on each navigation (page, campaign).

const UTM = { utm_source: 'source', utm_medium: 'medium', utm_campaign: 'name', utm_term: 'term', utm_content: 'content' };

/** Context that does not change while the page lives. */
export function staticContext() {
  const context = {};
  try {
    const nav = globalThis.navigator || {};
    if (nav.userAgent) context.userAgent = nav.userAgent;
    if (nav.language) context.locale = nav.language;
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz) context.timezone = tz;
    const s = globalThis.screen;
    if (s) context.screen = { width: s.width, height: s.height, density: globalThis.devicePixelRatio || 1 };
  } catch (_) {
    // A locked-down browser: send what we have.
  }
  return context;
}

/** The page's url, path, search, title and referrer, for `context.page` and page() properties. */
export function pageInfo(href, title, referrer) {
  const page = { url: href };
  try {
    const url = new URL(href);
    page.path = url.pathname;
    if (url.search) page.search = url.search;
  } catch (_) {
    // Not a URL (about:blank, a sandboxed frame): keep the raw href.
  }
  if (title) page.title = title;
  if (referrer) page.referrer = referrer;
  return page;
}

/** UTM parameters of `href` as `context.campaign` ({source, medium, name, term, content}), or null. */
export function campaign(href) {
  let found = null;
  try {
    new URL(href).searchParams.forEach((value, key) => {
      const field = UTM[key.toLowerCase()];
      if (field && value) (found ||= {})[field] = value;
    });
  } catch (_) {
    // Not a URL: no campaign.
  }
  return found;
}
