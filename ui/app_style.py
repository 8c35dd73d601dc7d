"""Look and feel of the Gradio app: theme, CSS and the small page script.

No web fonts are fetched (the machines running Isnad may have no internet): the
font stack names fonts that are installed locally, falling back to Tahoma/sans.
"""
from __future__ import annotations

import gradio as gr

ARABIC_FONTS = ("Noto Naskh Arabic", "Amiri", "Noto Sans Arabic", "Tahoma", "sans-serif")
UI_FONTS = ("Noto Sans Arabic", "Noto Naskh Arabic", "Tahoma", "sans-serif")
MONO_FONTS = ("DejaVu Sans Mono", "Consolas", "monospace")


def theme() -> gr.themes.Base:
    # Plain font names (no gr.themes.GoogleFont): nothing is downloaded at run time.
    return gr.themes.Soft(
        primary_hue="teal", secondary_hue="amber", neutral_hue="stone",
        font=list(UI_FONTS), font_mono=list(MONO_FONTS),
    ).set(
        body_text_size="16px",
    )


# The app's own colours in both themes. Text on the highlight is checked for WCAG AA
# contrast (>= 4.5:1) in tests/test_app_style.py, from these values.
LIGHT = {
    "mark-bg": "#ffe58a", "mark-fg": "#1f1a0a", "mark-edge": "#e0b420",
    "warn-bg": "#fff7e6", "warn-fg": "#6b4a10", "warn-border": "#f2c46d", "warn-edge": "#c77d00",
    "err-bg": "#fdecec", "err-fg": "#8a2121", "err-border": "#eab0b0",
    "passage-bg": "rgba(20, 184, 166, .10)",
}
DARK = {
    "mark-bg": "#5c4a00", "mark-fg": "#fff4c2", "mark-edge": "#a88a1c",
    "warn-bg": "#3a2a08", "warn-fg": "#ffd98a", "warn-border": "#7a5a1a", "warn-edge": "#e0a020",
    "err-bg": "#3b1414", "err-fg": "#ffc2c2", "err-border": "#7a3030",
    "passage-bg": "rgba(45, 212, 191, .14)",
}
# (foreground, background) pairs that carry text
TEXT_PAIRS = (("mark-fg", "mark-bg"), ("warn-fg", "warn-bg"), ("err-fg", "err-bg"))


def _vars(colours: dict) -> str:
    return " ".join(f"--isnad-{k}: {v};" for k, v in colours.items())


PALETTE_CSS = f":root {{ {_vars(LIGHT)} }}\n.dark {{ {_vars(DARK)} }}"

_AR = ", ".join(f'"{f}"' if " " in f else f for f in ARABIC_FONTS)
_UI = ", ".join(f'"{f}"' if " " in f else f for f in UI_FONTS)

CSS = """
:root { --isnad-ar: %(ar)s; --isnad-ui: %(ui)s; }
%(palette)s
.gradio-container { direction: rtl; font-family: var(--isnad-ui) !important; }
html[dir=ltr] .gradio-container { direction: ltr; }
.gradio-container input[type=range] { direction: ltr; }
/* Gradio marks labels dir="ltr": let their (Arabic) content set the direction */
.gradio-container [data-testid="block-info"] { unicode-bidi: plaintext; text-align: start; }
#isnad-k [data-testid="block-info"] { white-space: nowrap; }
#isnad-k input[type=number] { width: 64px; flex: 0 0 auto; }
#isnad-header { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap;
  padding: 6px 4px 2px; border-bottom: 1px solid var(--border-color-primary); margin-bottom: 4px; }
#isnad-header h1 { font-family: var(--isnad-ar); font-size: 30px; margin: 0; color: var(--color-accent); }
#isnad-header .sub { font-size: 15px; color: var(--body-text-color-subdued); }
#isnad-header .stat { margin-inline-start: auto; font-size: 13px; color: var(--body-text-color-subdued);
  background: var(--background-fill-secondary); border-radius: 999px; padding: 2px 12px; }

/* chat */
#isnad-chat .message, #isnad-chat .message-content, #isnad-chat .prose { font-family: var(--isnad-ar); }
#isnad-chat .prose { font-size: 17px; line-height: 1.85; }
.isnad-q { font-family: var(--isnad-ar); }
.isnad-answer { font-family: var(--isnad-ar); text-align: start; }
.isnad-ref { color: var(--color-accent); font-weight: 700; cursor: pointer; padding: 0 1px;
  font-family: var(--isnad-ui); font-size: 0.85em; vertical-align: super; }
.isnad-ref:hover { text-decoration: underline; }
.isnad-foot { font-size: 12px; color: var(--body-text-color-subdued); margin-top: 6px;
  font-family: var(--isnad-ui); }
.isnad-abstain { display: flex; gap: 10px; align-items: flex-start; background: var(--isnad-warn-bg);
  border: 1px solid var(--isnad-warn-border); border-inline-start: 5px solid var(--isnad-warn-edge);
  border-radius: 8px; padding: 8px 12px; color: var(--isnad-warn-fg); }
.isnad-abstain-icon { font-size: 22px; line-height: 1.2; }
.isnad-abstain-label { font-weight: 700; font-size: 14px; font-family: var(--isnad-ui); }
.isnad-abstain-text { font-family: var(--isnad-ar); }
.isnad-notice { font-size: 13px; font-family: var(--isnad-ui); color: var(--isnad-warn-fg);
  background: var(--isnad-warn-bg); border: 1px solid var(--isnad-warn-border); border-radius: 6px; padding: 3px 10px; margin-top: 6px; line-height: 1.6; }
.isnad-notice-icon { color: var(--isnad-warn-edge); }
.isnad-by { font-size: 12.5px; font-family: var(--isnad-ui); color: var(--color-accent); margin-top: 6px; }
.isnad-pending, .isnad-draft-label { font-size: 13px; font-family: var(--isnad-ui);
  color: var(--body-text-color-subdued); font-style: italic; }
.isnad-draft { border: 1px dashed var(--border-color-primary); border-radius: 8px; padding: 4px 10px; }
.isnad-draft-text { font-family: var(--isnad-ar); text-align: start; opacity: .7; }
.isnad-dots { display: inline-block; animation: isnad-blink 1.2s ease-in-out infinite; }
@keyframes isnad-blink { 50%% { opacity: .25; } }
.isnad-error { background: var(--isnad-err-bg); border: 1px solid var(--isnad-err-border); border-radius: 8px;
  padding: 6px 12px; color: var(--isnad-err-fg); font-family: var(--isnad-ui); }
#isnad-input textarea { font-family: var(--isnad-ar); font-size: 17px; }
.isnad-examples { gap: 6px !important; }
.isnad-examples button { font-family: var(--isnad-ar) !important; font-size: 14px !important;
  white-space: normal !important; }

/* sources panel */
.isnad-sources { font-family: var(--isnad-ui); text-align: start; }
.isnad-sources-top { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.isnad-sources-head { font-weight: 700; font-size: 15px; margin-bottom: 2px; }
.isnad-copy { margin-inline-start: auto; font-size: 12.5px; color: var(--color-accent); text-decoration: none;
  border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 1px 10px; }
.isnad-copy.done::after { content: " ✓"; }
.isnad-sources-q { font-family: var(--isnad-ar); color: var(--body-text-color-subdued);
  font-size: 14px; margin-bottom: 8px; }
.isnad-empty { color: var(--body-text-color-subdued); padding: 18px 8px; line-height: 1.8; }
.isnad-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  margin-bottom: 10px; background: var(--background-fill-primary); transition: box-shadow .3s; }
.isnad-card.cited { border-inline-start: 4px solid var(--color-accent); }
.isnad-card:not(.cited) { opacity: .85; }
.isnad-card.flash { box-shadow: 0 0 0 3px var(--color-accent-soft, #99f6e4); }
.isnad-card header { display: flex; gap: 8px; align-items: baseline; }
.isnad-badge { font-weight: 700; color: var(--color-accent); white-space: nowrap; }
.isnad-card:not(.cited) .isnad-badge { color: var(--body-text-color-subdued); }
.isnad-title { font-weight: 700; font-family: var(--isnad-ar); font-size: 15px; line-height: 1.5; }
.isnad-meta { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12.5px;
  color: var(--body-text-color-subdued); margin: 4px 0 6px; align-items: center; }
.isnad-docid { font-family: %(mono)s; font-size: 11.5px; color: var(--body-text-color-subdued); }
.isnad-score { cursor: help; border-bottom: 1px dotted currentColor; }
.isnad-passage { font-family: var(--isnad-ar); font-size: 15px; line-height: 1.9; white-space: pre-line; }
.isnad-sources mark, .isnad-doc-text mark { background: var(--isnad-mark-bg); color: var(--isnad-mark-fg);
  border-radius: 3px; padding: 1px 0; box-shadow: 0 0 0 1px var(--isnad-mark-edge); }
.isnad-open { display: inline-block; margin-top: 6px; font-size: 13px; color: var(--color-accent);
  text-decoration: none; cursor: pointer; }
.isnad-open:hover { text-decoration: underline; }
.isnad-sep { margin: 14px 0 8px; font-size: 13px; color: var(--body-text-color-subdued);
  border-top: 1px dashed var(--border-color-primary); padding-top: 8px; }
#isnad-sources-col { flex-wrap: nowrap !important; }
#isnad-sources { max-height: 72vh; overflow-y: auto; overflow-x: hidden; padding-inline-end: 4px; }
#isnad-controls { gap: 8px; align-items: center; }
#isnad-controls .block { padding-top: 4px !important; padding-bottom: 4px !important; }

/* documents tab */
.isnad-docs table { width: 100%%; border-collapse: collapse; font-size: 14px; }
.isnad-docs th, .isnad-docs td { text-align: start !important; padding: 8px 10px !important; vertical-align: top;
  border: none !important; border-bottom: 1px solid var(--border-color-primary) !important; }
.isnad-docs th { color: var(--body-text-color-subdued); font-weight: 600; }
.isnad-docs td.t { font-family: var(--isnad-ar); font-weight: 600; }
.isnad-status { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 10px; }
.isnad-stat { background: var(--background-fill-secondary); border-radius: 8px; padding: 6px 12px; }
.isnad-stat .k { font-size: 12px; color: var(--body-text-color-subdued); }
.isnad-stat .v { font-size: 14px; font-weight: 600; word-break: break-all; }

/* document viewer (modal) */
#isnad-modal { position: fixed !important; top: 4vh; bottom: 4vh; left: 6vw; right: 6vw; z-index: 1000;
  width: auto !important; min-width: 0 !important; max-width: none !important; margin: 0 !important;
  background: var(--background-fill-primary); border-radius: 12px; padding: 14px 18px;
  box-shadow: 0 0 0 100vmax rgba(0,0,0,.45), 0 10px 40px rgba(0,0,0,.3);
  display: flex; flex-direction: column; overflow: hidden; }
#isnad-modal-body { flex: 1 1 auto; overflow-y: auto; min-height: 0; }
#isnad-modal-close { max-width: 130px; }
.isnad-doc-head h3 { font-family: var(--isnad-ar); margin: 0 0 4px; font-size: 20px; }
.isnad-doc-meta { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px;
  color: var(--body-text-color-subdued); }
.isnad-doc-where { font-size: 13px; margin-top: 4px; color: var(--color-accent); }
.isnad-doc-text { font-family: var(--isnad-ar); font-size: 17px; line-height: 1.9; white-space: pre-wrap;
  text-align: start; padding: 6px 4px 40vh; }
.isnad-doc-passage { background: var(--isnad-passage-bg); }

/* long URLs, doc_ids and Latin strings wrap instead of widening the page */
.isnad-passage, .isnad-doc-text, .isnad-title, .isnad-docid, .isnad-q, .isnad-answer, .isnad-sources-q,
.isnad-doc-head, .isnad-docs td, .isnad-eval, .isnad-stat .v { overflow-wrap: anywhere; word-break: normal; }
.isnad-docs table { table-layout: auto; }

/* copy button on every answer */
.isnad-msg-copy { display: inline-block; margin-top: 6px; font-size: 12.5px; font-family: var(--isnad-ui);
  color: var(--color-accent); border: 1px solid var(--border-color-primary); border-radius: 999px;
  padding: 0 10px; cursor: pointer; user-select: none; }
.isnad-msg-copy.done::after { content: " ✓"; }
.isnad-msg-copy-src { display: none !important; }

/* header, language and theme; the conversations bar */
#isnad-convbar { align-items: flex-end; }
#isnad-convbar > button { max-height: 42px; align-self: flex-end; }
#isnad-top { align-items: center; gap: 8px; flex-wrap: wrap; }
#isnad-top > .block { padding: 0 !important; }
#isnad-lang { flex: 0 0 auto !important; }
#isnad-theme { flex: 0 0 auto !important; max-width: 48px; font-size: 18px; }

/* evaluation tab */
.isnad-eval table { border-collapse: collapse; margin: 6px 0 12px; font-size: 14px; }
.isnad-eval th, .isnad-eval td { padding: 4px 10px !important; text-align: start;
  border: none !important; border-bottom: 1px solid var(--border-color-primary) !important; }
.isnad-eval td.n { font-variant-numeric: tabular-nums; direction: ltr; text-align: end; }
.isnad-eval-note { font-size: 13px; color: var(--body-text-color-subdued); }
.isnad-eval-failures li { margin: 4px 0; }
.isnad-eval-ask { color: var(--color-accent); }
.isnad-eval-rank { font-size: 12px; color: var(--body-text-color-subdued); }

/* phone: one column; the sources follow the answer (the examples and settings come after) */
@media (max-width: 720px) {
  #isnad-header .sub { display: none; }
  #isnad-header h1 { font-size: 24px; }
  #isnad-convbar { flex-wrap: nowrap !important; gap: 6px; }
  #isnad-convbar > * { min-width: 0 !important; }
  #isnad-convbar [data-testid="block-info"] { display: none; }
  #isnad-convbar button { padding: 4px 8px !important; font-size: 13px !important; }
  #isnad-main { flex-direction: column; }
  #isnad-main > div { min-width: 0 !important; width: 100%% !important; }
  #isnad-chat { height: 52vh !important; }
  #isnad-sources { max-height: none; overflow-y: visible; }
  #isnad-modal { left: 2vw; right: 2vw; top: 2vh; bottom: 2vh; padding: 10px; }
  .isnad-examples button { min-width: 0 !important; }
  .isnad-doc-text { font-size: 16px; }
}
""" % {"ar": _AR, "ui": _UI, "palette": PALETTE_CSS, "mono": ", ".join(f'"{f}"' if " " in f else f for f in MONO_FONTS)}

# Small page script: Arabic document, [n] markers in the chat bring their source card
# into view, Escape closes the document viewer. Handles clicks by delegation.
HEAD = """
<meta name="color-scheme" content="light dark">
<script>
function isnadCopy(text, done) {
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, function () {}); return; }
  var t = document.createElement("textarea"); t.value = text; t.style.position = "fixed"; t.style.opacity = "0";
  document.body.appendChild(t); t.select(); try { document.execCommand("copy"); done(); } catch (err) {} t.remove();
}
(function () {
  document.documentElement.setAttribute("lang", "ar");
  document.documentElement.setAttribute("dir", "rtl");
  document.addEventListener("click", function (e) {
    var r = e.target && e.target.closest ? e.target.closest(".isnad-ref") : null;
    if (!r) return;
    var m = /isnad-ref-(\d+)-(\d+)/.exec(r.className || "");
    if (!m) return;
    var id = "isnad-src-" + m[1] + "-" + m[2];
    var tries = 0;
    (function look() {
      var el = document.getElementById(id);
      if (el) {
        el.scrollIntoView({behavior: "smooth", block: "nearest"});
        el.classList.add("flash");
        setTimeout(function () { el.classList.remove("flash"); }, 1400);
      } else if (tries++ < 10) { setTimeout(look, 120); }
    })();
  });
  // the copy button under every answer: the answer with its numbered sources, as text
  document.addEventListener("click", function (e) {
    var b = e.target && e.target.closest ? e.target.closest(".isnad-msg-copy") : null;
    if (!b) return;
    e.preventDefault(); e.stopPropagation();
    var src = b.parentElement ? b.parentElement.querySelector(".isnad-msg-copy-src") : null;
    if (!src) return;
    var copy = src.cloneNode(true);
    copy.querySelectorAll("br").forEach(function (br) { br.replaceWith("\\n"); });
    isnadCopy(copy.textContent, function () {
      b.classList.add("done"); setTimeout(function () { b.classList.remove("done"); }, 1500);
    });
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var b = document.getElementById("isnad-modal-close");
    if (b && b.offsetParent !== null) b.click();
  });
})();
</script>
"""

# js_on_load for the gr.HTML panels with "open document" links: one delegated
# listener that hands the link's key (never a path) to the server.
OPEN_LINKS_JS = """
element.addEventListener("click", function (e) {
  var a = e.target && e.target.closest ? e.target.closest("[data-open]") : null;
  var c = e.target && e.target.closest ? e.target.closest("[data-copy]") : null;
  if (c && element.contains(c)) {
    e.preventDefault();
    var src = element.querySelector(".isnad-copy-src");
    var text = src ? src.textContent : "";
    isnadCopy(text, function () { c.classList.add("done"); setTimeout(function () { c.classList.remove("done"); }, 1500); });
    return;
  }
  if (!a || !element.contains(a)) return;
  e.preventDefault();
  trigger("click", {open: a.getAttribute("data-open")});
});
"""

# js_on_load for the document viewer: bring the marked quote into view.
SCROLL_TO_MARK_JS = """
function go() {
  var m = element.querySelector("#isnad-doc-mark");
  if (m) { m.scrollIntoView({block: "center"}); }
  else { var s = element.closest("#isnad-modal-body"); if (s) s.scrollTop = 0; }
}
setTimeout(go, 60);
watch("value", function () { setTimeout(go, 60); });
"""

# The interface language on the page itself: the document's lang and direction.
LANGUAGE_JS = """
(lang) => {
  var l = lang === "en" ? "en" : "ar";
  document.documentElement.setAttribute("lang", l);
  document.documentElement.setAttribute("dir", l === "en" ? "ltr" : "rtl");
  document.body.classList.toggle("isnad-en", l === "en");
  return [lang];
}
"""

# The visible theme toggle: Gradio follows the system preference (the `dark` class on
# <body>); the toggle flips it and remembers the choice in this browser.
THEME_TOGGLE_JS = """
() => {
  var dark = !document.body.classList.contains("dark");
  document.body.classList.toggle("dark", dark);
  try { localStorage.setItem("isnad-theme", dark ? "dark" : "light"); } catch (e) {}
}
"""
THEME_LOAD_JS = """
() => {
  var t = null;
  try { t = localStorage.getItem("isnad-theme"); } catch (e) {}
  if (t === "dark" || t === "light") document.body.classList.toggle("dark", t === "dark");
}
"""

# Export: the Markdown the server made from the browser's own store, saved as a file
# by the browser (nothing is written on the server).
SAVE_MARKDOWN_JS = """
(md) => {
  if (!md) return;
  var a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([md], {type: "text/markdown;charset=utf-8"}));
  a.download = "isnad-conversation.md";
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(function () { URL.revokeObjectURL(a.href); }, 5000);
}
"""
