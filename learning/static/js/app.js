// 红帆学院 on the phone: the outbox of study events, its sync to /api/v1/events, the status line,
// the service worker and 离线学习. Every page still works without this file (forms post as usual).
(function () {
  "use strict";
  var doc = document;
  var meta = function (name) { var m = doc.querySelector('meta[name="' + name + '"]'); return m ? m.content : ""; };
  var MEMBER = parseInt(meta("hf-member"), 10) || null;
  var statusEl = doc.getElementById("sync");
  var text = function (key, n) { return ((statusEl && statusEl.getAttribute("data-" + key)) || "").replace("{n}", n); };

  // Confirm buttons marked data-confirm (no inline handlers: the CSP forbids them).
  doc.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // ---- the outbox: IndexedDB, one record per event {id, member, event, held} -------------------
  // Only study data and ids: lesson id, kind, position, progress, seconds, answers, time.
  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var request = indexedDB.open("hongfan", 1);
        request.onupgradeneeded = function () { request.result.createObjectStore("outbox", {keyPath: "id"}); };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }
  var dbHandle = null;
  function run(db, mode, work) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction("outbox", mode);
      var result = work(tx.objectStore("outbox"));
      tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
      tx.onerror = tx.onabort = function () { reject(tx.error); };
    });
  }
  // With the database already open the transaction starts synchronously, so an event queued
  // in a pagehide handler is written before the page goes away.
  function store(mode, work) {
    if (dbHandle) { return run(dbHandle, mode, work); }
    return openDb().then(function (db) { dbHandle = db; return run(db, mode, work); });
  }
  function allRecords() { return store("readonly", function (s) { return s.getAll(); }); }
  function removeIds(ids) {
    return store("readwrite", function (s) { ids.forEach(function (id) { s.delete(id); }); });
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16)); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // Queue one event; `hold` keeps it out of the sync for that many ms (a quiz sent as a form
  // meanwhile: if its result page arrives, the held copy is dropped, otherwise it is sent).
  function queue(fields, hold) {
    var event = {id: uuid(), occurred_at: new Date().toISOString()};
    Object.keys(fields).forEach(function (k) { event[k] = fields[k]; });
    var record = {id: event.id, member: MEMBER, event: event, held: hold ? Date.now() + hold : 0};
    return store("readwrite", function (s) { s.put(record); }).then(function () {
      refresh();
      if (!hold) { schedule(0); }
      return event;
    });
  }
  function release(id) {
    return store("readwrite", function (s) {
      var get = s.get(id);
      get.onsuccess = function () { if (get.result) { get.result.held = 0; s.put(get.result); } };
    }).then(function () { schedule(0); });
  }

  // ---- sync: fresh session check, batches of ≤100, exponential back-off ------------------------
  var attempt = 0, timer = null, running = false, again = false, state = "idle", rejected = [];
  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }
  function backoff() {
    attempt += 1;
    var delay = Math.min(300000, 2000 * Math.pow(2, attempt - 1)) * (0.75 + Math.random() * 0.5);
    schedule(delay);
  }
  function session() {
    return fetch("/api/v1/session", {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      if (r.status === 401) { return null; }
      if (!r.ok) { throw new Error("session " + r.status); }
      return r.json();
    });
  }
  function flush() {
    if (!MEMBER) { return Promise.resolve(); }
    if (running) { again = true; return Promise.resolve(); }
    running = true;
    again = false;
    return allRecords().then(function (records) {
      var now = Date.now();
      var ready = records.filter(function (r) { return r.member === MEMBER && !(r.held > now); });
      if (!ready.length) { attempt = 0; state = "idle"; return; }
      return session().then(function (info) {
        if (!info || info.member_id !== MEMBER) { state = "login"; return; }
        var batch = ready.slice(0, 100);
        return fetch("/api/v1/events", {
          method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": info.csrf_token},
          body: JSON.stringify({events: batch.map(function (r) { return r.event; })})
        }).then(function (r) {
          if (r.status === 401) { state = "login"; return; }
          if (!r.ok) { throw new Error("events " + r.status); }  // 5xx, 429, 404 before deploy: retry
          return r.json().then(function (body) {
            var bad = body.rejected || [];
            rejected = rejected.concat(bad).slice(-20);
            var done = (body.accepted || []).concat(body.duplicates || [], bad.map(function (x) { return x.id; }));
            attempt = 0; state = "idle";
            return removeIds(done).then(function () {
              if (done.length && ready.length > batch.length) { schedule(0); }
            });
          });
        });
      });
    }).catch(function () {
      state = navigator.onLine === false ? "offline" : "retry";
      backoff();
    }).then(function () {
      running = false;
      refresh();
      if (again && attempt === 0) { schedule(0); }
    });
  }

  // ---- the status line: what waits, why, and what the member can do ----------------------------
  function refresh() {
    if (!statusEl || !MEMBER) { return Promise.resolve(); }
    return allRecords().then(function (records) {
      var n = records.filter(function (r) { return r.member === MEMBER; }).length;
      var message = "";
      if (n && state === "login") { message = text("login", n); }
      else if (n && (state === "offline" || navigator.onLine === false)) { message = text("offline", n); }
      else if (n) { message = text("waiting", n); }
      if (rejected.length) { message += (message ? " " : "") + text("rejected", rejected.length); }
      statusEl.querySelector("span").textContent = message;
      statusEl.querySelector("a").hidden = state !== "login";
      statusEl.hidden = !message;
      statusEl.setAttribute("data-count", String(n));
      var counter = doc.querySelector("[data-outbox-count]");
      if (counter) { counter.textContent = String(n); }
    }).catch(function () {});
  }

  window.addEventListener("online", function () { attempt = 0; state = "idle"; schedule(0); });
  window.addEventListener("offline", function () { state = "offline"; refresh(); });
  doc.addEventListener("visibilitychange", function () { if (!doc.hidden) { schedule(0); } });

  // A quiz result page proves the form reached the server: drop the held copy of its answers.
  var done = doc.querySelector("[data-quiz-done]");
  var ready = Promise.resolve();
  if (done) {
    var lesson = parseInt(done.getAttribute("data-quiz-done"), 10);
    ready = allRecords().then(function (records) {
      return removeIds(records.filter(function (r) {
        return r.held && r.event.kind === "answer" && r.event.lesson_id === lesson;
      }).map(function (r) { return r.id; }));
    }).catch(function () {});
  }
  ready.then(function () { refresh(); schedule(300); });

  // ---- service worker and 离线学习 ----------------------------------------------------------------
  if ("serviceWorker" in navigator && meta("hf-sw")) {
    navigator.serviceWorker.register(meta("hf-sw"), {scope: "/"}).catch(function () {});
  }
  var KEPT = "hf-offline-courses";
  function kept() { try { return JSON.parse(localStorage.getItem(KEPT)) || {}; } catch (e) { return {}; } }
  function keep(all) { localStorage.setItem(KEPT, JSON.stringify(all)); }
  function megabytes(n) { return (n / 1048576).toFixed(n < 10485760 ? 1 : 0) + " MB"; }

  function download(panel) {
    var slug = panel.getAttribute("data-slug");
    var say = panel.querySelector("[data-offline-state]");
    var withMedia = panel.querySelector("input[name=media]");
    say.textContent = panel.getAttribute("data-working");
    return fetch("/api/v1/courses/" + encodeURIComponent(slug) + "/offline", {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (pack) {
        var urls = pack.pages.slice();
        if (withMedia && withMedia.checked) { pack.media.forEach(function (m) { urls.push(m.url); }); }
        return caches.open("hf-offline").then(function (cache) {
          return Promise.all(urls.map(function (url) {
            return fetch(url, {credentials: "same-origin"}).then(function (r) {
              if (!r.ok || r.redirected) { throw new Error(url); }
              return cache.put(url, r);
            });
          }));
        }).then(function () {
          var all = kept();
          all[slug] = {title: panel.getAttribute("data-title"), urls: urls, at: new Date().toISOString()};
          keep(all);
          showKept(panel);
        });
      }).catch(function () { say.textContent = panel.getAttribute("data-failed"); });
  }
  function forget(panel) {
    var slug = panel.getAttribute("data-slug"), all = kept(), entry = all[slug];
    delete all[slug];
    keep(all);
    return caches.open("hf-offline").then(function (cache) {
      return Promise.all(((entry && entry.urls) || []).map(function (url) { return cache.delete(url); }));
    }).then(function () { showKept(panel); });
  }
  function showKept(panel) {
    var entry = kept()[panel.getAttribute("data-slug")];
    panel.querySelector("[data-offline-state]").textContent = entry ? panel.getAttribute("data-kept") : "";
    panel.querySelector("[data-offline-get]").hidden = !!entry;
    panel.querySelector("[data-offline-drop]").hidden = !entry;
  }
  Array.prototype.forEach.call(doc.querySelectorAll("[data-offline-course]"), function (panel) {
    if (!window.caches) { return; }
    panel.hidden = false;
    showKept(panel);
    panel.querySelector("[data-offline-get]").addEventListener("click", function () { download(panel); });
    panel.querySelector("[data-offline-drop]").addEventListener("click", function () { forget(panel); });
    var size = panel.querySelector("[data-media-bytes]");
    if (size) { size.textContent = megabytes(parseInt(size.getAttribute("data-media-bytes"), 10)); }
  });
  // The offline page lists the courses kept on this phone.
  var list = doc.querySelector("[data-kept-courses]");
  if (list) {
    var all = kept();
    Object.keys(all).forEach(function (slug) {
      var item = doc.createElement("li"), link = doc.createElement("a");
      link.className = "row-link";
      link.href = "/courses/" + encodeURIComponent(slug);
      link.textContent = all[slug].title || slug;
      item.appendChild(link);
      list.appendChild(item);
    });
    list.hidden = !Object.keys(all).length;
  }

  window.Hongfan = {queue: queue, release: release, flush: flush, session: session, refresh: refresh,
                    records: allRecords, member: MEMBER};
})();
