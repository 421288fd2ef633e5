// The contact form: the matches under a child or adult are refreshed (by htmx) as the
// identifying fields change. A refresh that was on its way while the user picked a match
// must not undo their choice: keep the picked option, and the focus on it.
(function () {
  "use strict";

  const BOX = "[data-matches-box]";
  const saved = new WeakMap();

  function radios(box) {
    return Array.from(box.querySelectorAll('input[type="radio"]'));
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    const box = event.detail.target;
    if (!(box instanceof Element) || !box.matches(BOX)) {
      return;
    }
    const picked = radios(box).find(function (radio) {
      return radio.checked;
    });
    const active = document.activeElement;
    saved.set(box, {
      picked: picked ? picked.value : null,
      focused: active && box.contains(active) && active.type === "radio" ? active.value : null,
    });
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    const box = event.detail.target;
    const state = box instanceof Element ? saved.get(box) : undefined;
    if (!state) {
      return;
    }
    saved.delete(box);
    radios(box).forEach(function (radio) {
      if (state.picked !== null) {
        radio.checked = radio.value === state.picked;
      }
      if (state.focused !== null && radio.value === state.focused) {
        radio.focus();
      }
    });
  });
})();
