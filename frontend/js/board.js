// The board, live (wall screens and the hub managers' board).
//
// Polls the board's data URL, re-renders the rows from it (reusing each row's
// nodes), runs every countdown once a second from the deadline, corrected for
// the difference between this browser's clock and the server's, and on a wall
// screen shows the rows a page at a time. Data only ever goes in through
// textContent, never innerHTML. Works for days on a wall: one timer per job,
// rows that leave the board are dropped from the map and the page.
(function () {
  "use strict";

  const root = document.querySelector("[data-board]");
  if (!root) {
    return;
  }
  const cfg = root.dataset;
  const POLL_MS = Math.max(1, parseInt(cfg.poll, 10) || 10) * 1000;
  const REQUEST_TIMEOUT_MS = 8000;
  const WALL = cfg.wall === "1";
  const NAMES = cfg.names === "1";
  const CELLS = JSON.parse(cfg.cells || "{}");
  const RAGS = JSON.parse(cfg.rags || "{}");
  const HHMM = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });

  const tbody = root.querySelector("[data-board-rows]");
  const table = tbody.closest("table");
  const headRow = root.querySelector("[data-board-head]");
  const FIXED_COLUMNS = 4; // reference, children, RAG, time left; then one per agency
  const emptyEl = root.querySelector("[data-board-empty]");
  const clockEl = root.querySelector("[data-board-clock]");
  const pageEl = root.querySelector("[data-board-page]");
  const lostEl = root.querySelector("[data-board-lost]");
  const stoppedEl = root.querySelector("[data-board-stopped]");
  const countsEl = root.querySelector("[data-testid=board-counts]");
  const countEls = {};
  root.querySelectorAll("[data-count]").forEach(function (el) {
    countEls[el.dataset.count] = el;
  });

  let offset = Number(cfg.now) - Date.now(); // the server's clock minus this browser's
  let lastUpdate = Number(cfg.now); // the server's time at the last good update
  let pageSeconds = parseInt(cfg.pageSeconds, 10) || 20;
  let agenciesKey = null;
  let stopped = false;
  let pollTimer = null;
  let pageTimer = null;
  let page = 0;
  let pages = 1;
  const rows = new Map(); // enquiry id -> {tr, sig, figureEl, noteEl, fig, note, late, t}

  function serverNow() {
    return Date.now() + offset;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // The same words as views/board.py's left_words().
  function leftWords(seconds) {
    const s = Math.abs(seconds);
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    let text;
    if (d) {
      text = d + "d " + h + "h " + pad(m) + "m";
    } else if (h) {
      text = h + "h " + pad(m) + "m " + pad(sec) + "s";
    } else {
      text = m + "m " + pad(sec) + "s";
    }
    return seconds <= 0 ? ["OVERDUE", "by " + text] : [text, "left"];
  }

  // Seconds left on a row's clock now (whole seconds, as the server counts), or null.
  function remaining(t) {
    if (t.left === null) {
      return null;
    }
    if (!t.working) {
      return Math.trunc((t.deadline - serverNow()) / 1000);
    }
    if (t.paused) {
      return t.left; // working time does not run while the hub is closed
    }
    return Math.trunc(t.left - (Date.now() - t.base) / 1000);
  }

  function timing(deadline, left, working, paused, overdue, status) {
    return {
      deadline: deadline,
      left: left,
      working: working,
      paused: paused,
      overdue: overdue,
      status: status,
      base: Date.now(),
    };
  }

  function updateTime(entry) {
    const t = entry.t;
    const rem = remaining(t);
    let fig;
    let note;
    if (rem === null) {
      fig = t.status;
      note = "";
    } else {
      const words = leftWords(rem);
      fig = words[0];
      note = words[1];
      if (rem > 0 && t.working) {
        note = t.paused ? "paused until the hub opens" : "working time left";
      }
    }
    if (fig !== entry.fig) {
      entry.figureEl.textContent = fig;
      entry.fig = fig;
    }
    if (note !== entry.note) {
      entry.noteEl.textContent = note;
      entry.note = note;
    }
    // A clock that runs out turns its row OVERDUE at once, before the next poll.
    const late = t.overdue || (rem !== null && rem <= 0);
    if (late !== entry.late) {
      entry.tr.classList.toggle("mash-board__row--overdue", late);
      entry.tr.setAttribute("data-overdue", late ? "1" : "");
      entry.late = late;
    }
  }

  function adopt(tr) {
    // A row the server rendered: its timing is in its data-* attributes.
    const d = tr.dataset;
    const entry = {
      tr: tr,
      sig: null,
      figureEl: tr.querySelector(".mash-board__figure"),
      noteEl: tr.querySelector(".mash-board__note"),
      fig: null,
      note: null,
      late: d.overdue === "1",
      t: timing(
        d.deadline ? Number(d.deadline) : null,
        d.left === "" ? null : Number(d.left),
        d.working === "1",
        d.paused === "1",
        d.overdue === "1",
        d.status || ""
      ),
    };
    rows.set(d.id, entry);
  }

  function fill(entry, r) {
    const tr = entry.tr;
    tr.textContent = "";
    const ref = el("th");
    ref.scope = "row";
    if (NAMES) {
      const link = el("a", "govuk-link", r.ref);
      link.href = (cfg.detailUrl || "/enquiries/") + encodeURIComponent(r.id) + "/";
      ref.appendChild(link);
    } else {
      ref.textContent = r.ref;
    }
    tr.appendChild(ref);
    const children = r.children.map(function (c) {
      return (NAMES && c[2] ? c[2] : c[0]) + " " + c[1];
    });
    tr.appendChild(el("td", "mash-board__children", children.join(", ")));
    const rag = el("td");
    rag.appendChild(
      el("span", "mash-board__rag mash-board__rag--" + (r.rag || "unrated"), RAGS[r.rag] || r.rag)
    );
    tr.appendChild(rag);
    const time = el("td", "mash-board__time");
    time.setAttribute("data-testid", "time-left");
    entry.figureEl = el("span", "mash-board__figure");
    entry.noteEl = el("span", "mash-board__note");
    time.appendChild(entry.figureEl);
    time.appendChild(document.createTextNode(" "));
    time.appendChild(entry.noteEl);
    tr.appendChild(time);
    r.cells.forEach(function (code) {
      const cell = CELLS[code] || ["", code];
      const td = el("td", "k-" + code);
      if (cell[0]) {
        const symbol = el("b", "", cell[0]);
        symbol.setAttribute("aria-hidden", "true");
        td.appendChild(symbol);
        td.appendChild(document.createTextNode(" " + cell[1]));
      } else {
        td.appendChild(el("span", "mash-vh", cell[1]));
      }
      tr.appendChild(td);
    });
    entry.fig = null;
    entry.note = null;
  }

  function setHead(agencies) {
    const key = JSON.stringify(agencies);
    if (key === agenciesKey) {
      return;
    }
    agenciesKey = key;
    while (headRow.cells.length > FIXED_COLUMNS) {
      headRow.deleteCell(FIXED_COLUMNS);
    }
    agencies.forEach(function (a) {
      const th = el("th", "mash-board__agency");
      th.scope = "col";
      const abbr = el("abbr", "", a[1]);
      abbr.title = a[2];
      th.appendChild(abbr);
      headRow.appendChild(th);
    });
  }

  function setCounts(counts) {
    Object.keys(countEls).forEach(function (key) {
      const text = String(counts[key] || 0);
      if (countEls[key].textContent !== text) {
        countEls[key].textContent = text;
      }
    });
  }

  function apply(data, sent, received) {
    offset = data.now - (sent + received) / 2;
    lastUpdate = data.now;
    pageSeconds = data.page_seconds || pageSeconds;
    setCounts(data.counts);
    setHead(data.agencies);
    const seen = new Set();
    const order = [];
    data.rows.forEach(function (r) {
      const id = String(r.id);
      seen.add(id);
      let entry = rows.get(id);
      if (!entry) {
        entry = { tr: el("tr", "mash-board__row"), sig: null, late: null };
        entry.tr.setAttribute("data-testid", "board-row");
        rows.set(id, entry);
      }
      const sig = JSON.stringify([r.ref, r.rag, r.status, r.children, r.cells]);
      if (sig !== entry.sig) {
        fill(entry, r);
        entry.sig = sig;
      }
      const tr = entry.tr;
      tr.setAttribute("data-id", id);
      tr.setAttribute("data-ref", r.ref);
      tr.setAttribute("data-rag", r.rag);
      entry.t = timing(r.deadline, r.left, r.working, r.paused, r.overdue, r.status);
      entry.late = null; // recheck the row's style against the fresh data
      order.push(tr);
    });
    rows.forEach(function (entry, id) {
      if (!seen.has(id)) {
        entry.tr.remove();
        rows.delete(id);
      }
    });
    // Move rows only when the order changed (the nodes are reused, not rebuilt).
    const current = tbody.rows;
    let same = current.length === order.length;
    for (let i = 0; same && i < order.length; i++) {
      same = current[i] === order[i];
    }
    if (!same) {
      order.forEach(function (tr) {
        tbody.appendChild(tr);
      });
    }
    emptyEl.hidden = order.length > 0;
    table.hidden = order.length === 0;
    rows.forEach(updateTime);
    paginate();
    if (!WALL && clockEl) {
      clockEl.textContent = HHMM.format(lastUpdate);
    }
  }

  // Paging (wall screens): as many rows as fit, one page at a time.
  function perPage() {
    const list = tbody.rows;
    if (!list.length) {
      return Infinity;
    }
    // Rows have a fixed height (the first is a little shorter: it has no border above):
    // measure the first two, shown for a moment if they are on another page.
    const sample = Array.prototype.slice.call(list, 0, 2);
    const wasHidden = sample.map(function (tr) {
      return tr.hidden;
    });
    sample.forEach(function (tr) {
      tr.hidden = false;
    });
    const rowHeight = Math.max.apply(
      null,
      sample.map(function (tr) {
        return tr.getBoundingClientRect().height;
      })
    );
    const top = tbody.getBoundingClientRect().top;
    sample.forEach(function (tr, i) {
      tr.hidden = wasHidden[i];
    });
    // The wall's board fills the window (100vh): its bottom is where rows must stop.
    const bottom = Math.min(window.innerHeight, root.getBoundingClientRect().bottom);
    if (rowHeight <= 0) {
      return Infinity;
    }
    return Math.max(1, Math.floor((bottom - top) / rowHeight));
  }

  function showPage() {
    const size = perPage();
    const list = tbody.rows;
    pages = size === Infinity ? 1 : Math.max(1, Math.ceil(list.length / size));
    if (page >= pages) {
      page = 0;
    }
    for (let i = 0; i < list.length; i++) {
      const hide = pages > 1 && (i < page * size || i >= (page + 1) * size);
      if (list[i].hidden !== hide) {
        list[i].hidden = hide;
      }
    }
    if (pageEl) {
      // Only shown with more than one page; it keeps its line either way, so showing
      // it never moves the rows (and changes how many fit).
      pageEl.textContent = "page " + (page + 1) + " of " + pages;
      pageEl.classList.toggle("mash-board__page--single", pages <= 1);
    }
  }

  function paginate() {
    if (WALL) {
      showPage();
    }
  }

  function turnPage() {
    if (stopped) {
      return;
    }
    if (pages > 1) {
      page = (page + 1) % pages;
      showPage();
    }
    pageTimer = setTimeout(turnPage, pageSeconds * 1000);
  }

  // The banner takes a line above the table: fewer rows fit while it shows.
  function lost() {
    lostEl.textContent = "Connection lost, last updated " + HHMM.format(lastUpdate);
    if (lostEl.hidden) {
      lostEl.hidden = false;
      paginate();
    }
  }

  function connected() {
    if (!lostEl.hidden) {
      lostEl.hidden = true;
      paginate();
    }
  }

  // The screen was withdrawn, or the manager signed out: show nothing from the board.
  function refuse(message) {
    stopped = true;
    clearTimeout(pollTimer);
    clearTimeout(pageTimer);
    rows.clear();
    tbody.textContent = "";
    table.hidden = true;
    emptyEl.hidden = true;
    if (countsEl) {
      countsEl.hidden = true;
    }
    if (pageEl) {
      pageEl.classList.add("mash-board__page--single");
    }
    lostEl.hidden = true;
    stoppedEl.textContent = message;
    if (cfg.signInUrl) {
      stoppedEl.appendChild(document.createTextNode(" "));
      const link = el("a", "govuk-link", "Sign in");
      link.href = cfg.signInUrl;
      stoppedEl.appendChild(link);
    }
    stoppedEl.hidden = false;
  }

  function Refused(message) {
    this.message = message;
  }

  function poll() {
    if (stopped) {
      return;
    }
    const controller = new AbortController();
    const guard = setTimeout(function () {
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    const sent = Date.now();
    fetch(cfg.url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: controller.signal,
    })
      .then(function (response) {
        if (response.status === 403) {
          return response
            .json()
            .catch(function () {
              return {};
            })
            .then(function (body) {
              throw new Refused(body.error || "This board is no longer available.");
            });
        }
        if (!response.ok) {
          throw new Error("the board's data answered " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        apply(data, sent, Date.now());
        connected();
      })
      .catch(function (error) {
        if (error instanceof Refused) {
          refuse(error.message);
        } else {
          lost();
        }
      })
      .finally(function () {
        clearTimeout(guard);
        if (!stopped) {
          pollTimer = setTimeout(poll, POLL_MS);
        }
      });
  }

  function tick() {
    if (stopped) {
      return;
    }
    if (WALL && clockEl) {
      const text = HHMM.format(serverNow());
      if (clockEl.textContent !== text) {
        clockEl.textContent = text;
      }
    }
    rows.forEach(updateTime);
    // Next tick just after the next whole second, so every countdown moves together.
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  }

  Array.prototype.forEach.call(tbody.rows, adopt);
  window.addEventListener("resize", paginate);
  root.setAttribute("data-live", "1");
  paginate();
  tick();
  pollTimer = setTimeout(poll, POLL_MS);
  pageTimer = setTimeout(turnPage, pageSeconds * 1000);
})();
