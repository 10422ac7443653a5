// The two string tables (i18n/en.json, i18n/ja.json) and the page's language.
// Every string a person reads comes from a table; values from the API are shown as they are.

const LANGUAGES = ["en", "ja"];
const STORED = "pyoco.lang";
const tables = {};
let current = "en";

export async function loadTables() {
  await Promise.all(
    LANGUAGES.map(async (name) => {
      const response = await fetch(`/ui/i18n/${name}.json`);
      tables[name] = await response.json();
    }),
  );
}

/** The language: the one chosen on the page before, else the server's (setting or browser). */
export function initialLanguage(serverChoice) {
  const stored = localStorage.getItem(STORED);
  if (LANGUAGES.includes(stored)) return stored;
  return LANGUAGES.includes(serverChoice) ? serverChoice : "en";
}

export function setLanguage(name, remember = false) {
  current = LANGUAGES.includes(name) ? name : "en";
  if (remember) localStorage.setItem(STORED, current);
  document.documentElement.lang = current;
  document.title = t("title");
  translateMarkup(document);
}

export function language() {
  return current;
}

export function languages() {
  return LANGUAGES;
}

/** The string `key` in the page's language, `{name}` placeholders filled from `values`. */
export function t(key, values) {
  let text = tables[current]?.[key];
  if (text === undefined) {
    console.error(`dashboard: no string "${key}" in the ${current} table`);
    text = tables.en?.[key] ?? key;
  }
  return values ? text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? "")) : text;
}

/** The string for one value of an enumeration (a status, a reason), else the value itself. */
export function term(prefix, value) {
  const text = tables[current]?.[`${prefix}_${value}`];
  return text === undefined ? String(value) : text;
}

/** Fill the static markup's strings: `data-i18n` (text) and `data-i18n-<attribute>`. */
export function translateMarkup(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const attribute of ["aria-label", "title", "placeholder"]) {
    const data = `data-i18n-${attribute}`;
    for (const node of root.querySelectorAll(`[${data}]`)) node.setAttribute(attribute, t(node.getAttribute(data)));
  }
}
