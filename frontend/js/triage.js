// Triage of police notifications, keyboard first. The page works without this file
// (links and forms, full pages); with it and htmx, a researcher moves through the queue
// (j/k, or the arrow keys in the queue), opens a notification beside it (Enter), chooses
// an outcome (1-4) and records it (Ctrl+Enter), and the next one opens, with no full page
// load. Single-key shortcuts never fire while the user is typing in a box.
(function () {
  "use strict";

  const root = document.querySelector("[data-triage]");
  const panel = document.getElementById("triage-panel");
  if (!root || !panel || !window.htmx) {
    return;
  }
  const script = document.currentScript;
  const govuk = script ? new URL("govuk-frontend.min.js", script.src).href : null;
  let selected = null;

  function items() {
    return Array.from(document.querySelectorAll("#triage-queue [data-queue-item]"));
  }

  function link(item) {
    return item.querySelector("a");
  }

  // The selection: one item in the queue, shown by more than colour (a thick border and
  // aria-current for screen readers).
  function mark(pk) {
    selected = pk || null;
    items().forEach(function (item) {
      const on = item.dataset.pk === selected;
      item.classList.toggle("mash-triage-queue__item--selected", on);
      if (on) {
        link(item).setAttribute("aria-current", "true");
      } else {
        link(item).removeAttribute("aria-current");
      }
    });
  }

  function move(step) {
    const all = items();
    if (!all.length) {
      return;
    }
    let i = all.findIndex(function (item) {
      return item.dataset.pk === selected;
    });
    if (i === -1) {
      i = step > 0 ? 0 : all.length - 1;
    } else {
      i = Math.min(all.length - 1, Math.max(0, i + step));
    }
    mark(all[i].dataset.pk);
    link(all[i]).focus();
    all[i].scrollIntoView({ block: "nearest" });
  }

  function open() {
    const item = items().find(function (it) {
      return it.dataset.pk === selected;
    });
    if (!item) {
      return false;
    }
    link(item).click();
    return true;
  }

  function typing(el) {
    if (!el || el === document.body) {
      return false;
    }
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") {
      return true;
    }
    if (el.tagName === "INPUT") {
      return ["radio", "checkbox", "button", "submit", "reset"].indexOf(el.type) === -1;
    }
    return false;
  }

  function interactive(el) {
    return el && el.closest && el.closest("a, button, input, select, textarea, summary, label");
  }

  function outcomeForm() {
    return panel.querySelector("form[data-outcome-form]");
  }

  // 1-4: the outcome, then the cursor to what is still to fill in: the reason, or first
  // who to share with (2), or which enquiry when there is more than one (4).
  function choose(key) {
    const form = outcomeForm();
    const radio = form && form.querySelector('input[name="outcome"][data-key="' + key + '"]');
    if (!radio) {
      return false;
    }
    if (!radio.checked) {
      radio.click(); // a click, so GOV.UK Frontend reveals the option's own questions
    }
    let next = form.querySelector('textarea[name="reason"]');
    if (radio.value === "share_universal") {
      next = form.querySelector('input[name="shared_with"]') || next;
    } else if (radio.value === "add_to_enquiry") {
      const choices = Array.from(form.querySelectorAll('input[name="enquiry"]'));
      const picked = choices.some(function (c) {
        return c.checked;
      });
      if (choices.length > 1 && !picked) {
        next = choices[0];
      }
    }
    if (next) {
      next.focus();
    }
    return true;
  }

  function submit(target) {
    const own = target && target.closest ? target.closest("form") : null;
    const form = own && panel.contains(own) ? own : outcomeForm();
    if (!form || form.classList.contains("htmx-request")) {
      return false;
    }
    form.requestSubmit();
    return true;
  }

  function quality() {
    const details = panel.querySelector("#triage-quality");
    if (!details) {
      return false;
    }
    details.open = true;
    const first = details.querySelector("input:not([type=hidden])");
    if (first) {
      first.focus();
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.metaKey || event.isComposing) {
      return;
    }
    const target = event.target;
    if (event.key === "Enter" && event.ctrlKey) {
      if (submit(target)) {
        event.preventDefault();
      }
      return;
    }
    if (event.ctrlKey || event.shiftKey || typing(target)) {
      return;
    }
    const inQueue = target && target.closest && target.closest("#triage-queue");
    let handled = false;
    switch (event.key) {
      case "j":
        move(1);
        handled = true;
        break;
      case "k":
        move(-1);
        handled = true;
        break;
      case "ArrowDown":
      case "ArrowUp":
        if (inQueue) {
          move(event.key === "ArrowDown" ? 1 : -1);
          handled = true;
        }
        break;
      case "Enter":
        handled = !interactive(target) && open();
        break;
      case "1":
      case "2":
      case "3":
      case "4":
        handled = choose(event.key);
        break;
      case "q":
        handled = quality();
        break;
      default:
        break;
    }
    if (handled) {
      event.preventDefault();
    }
  });

  // Clicking (or Enter on) a notification in the queue selects it.
  document.addEventListener("click", function (event) {
    const item = event.target.closest && event.target.closest("#triage-queue [data-queue-item]");
    if (item) {
      mark(item.dataset.pk);
    }
  });

  function settle() {
    const section = panel.querySelector("[data-notification]");
    mark(section ? section.dataset.notification : null);
    // The panel's own GOV.UK components: conditional questions, the error summary.
    if (govuk) {
      import(govuk)
        .then(function (module) {
          module.initAll({ scope: panel });
        })
        .catch(function () {
          // Without GOV.UK Frontend's script every question simply shows.
        });
    }
    const summary = panel.querySelector(".govuk-error-summary");
    const conflict = panel.querySelector("#triage-conflict");
    const heading = panel.querySelector("#triage-heading");
    const focus = summary || conflict || heading;
    if (focus) {
      focus.setAttribute("tabindex", "-1");
      focus.focus();
      panel.scrollIntoView({ block: "start" });
    }
  }

  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.target === panel || (event.detail && event.detail.target === panel)) {
      settle();
    }
  });
  // The shortcuts are listening (tests and the benchmark wait for this before typing).
  root.setAttribute("data-triage-ready", "");
})();
