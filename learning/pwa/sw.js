// 红帆学院 service worker. VERSION and SHELL are prepended by the /sw.js route.
// Caches: "hf-shell-<VERSION>" (offline page, CSS, JS, icons: replaced on each deploy),
// "hf-static" (fingerprinted files met while browsing: their names never change meaning),
// "hf-offline" (pages and media of courses the member chose for 离线学习; written by app.js).
"use strict";
var SHELL_CACHE = "hf-shell-" + VERSION;
var STATIC_CACHE = "hf-static";
var OFFLINE_CACHE = "hf-offline";
var FINGERPRINTED = /^\/static\/.+\.[0-9a-f]{10}\.[a-z0-9]+$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    return cache.addAll(SHELL);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("hf-shell-") === 0 && name !== SHELL_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function offlinePage() {
  return caches.match(SHELL[0]).then(function (page) {
    return page || new Response("offline", {status: 503, headers: {"Content-Type": "text/plain"}});
  });
}

// A page: the network first (fresh progress, fresh CSRF token); a kept copy when it fails.
// A page kept for offline study is refreshed whenever it is fetched successfully.
function page(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(OFFLINE_CACHE).then(function (cache) {
        return cache.match(request, {ignoreSearch: true, ignoreVary: true}).then(function (kept) {
          if (kept) { return cache.put(request.url.split("?")[0], copy); }
        });
      });
    }
    return response;
  }, function () {
    return caches.match(request, {ignoreSearch: true, ignoreVary: true}).then(function (kept) {
      return kept || offlinePage();
    });
  });
}

// Media kept offline, answering Range requests from the stored copy (video seeks use them).
function media(request) {
  return caches.match(request.url, {ignoreSearch: true, ignoreVary: true}).then(function (kept) {
    if (!kept) { return fetch(request); }
    var range = request.headers.get("Range");
    if (!range) { return kept; }
    return kept.blob().then(function (blob) {
      var match = /bytes=(\d*)-(\d*)/.exec(range) || [];
      var start = match[1] ? parseInt(match[1], 10) : 0;
      var end = match[2] ? parseInt(match[2], 10) : blob.size - 1;
      if (start >= blob.size) {
        return new Response(null, {status: 416, headers: {"Content-Range": "bytes */" + blob.size}});
      }
      end = Math.min(end, blob.size - 1);
      return new Response(blob.slice(start, end + 1), {status: 206, headers: {
        "Content-Type": kept.headers.get("Content-Type") || "application/octet-stream",
        "Content-Range": "bytes " + start + "-" + end + "/" + blob.size,
        "Content-Length": String(end - start + 1), "Accept-Ranges": "bytes"}});
    });
  });
}

function fingerprinted(request) {
  return caches.match(request).then(function (kept) {
    return kept || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(STATIC_CACHE).then(function (cache) { return cache.put(request, copy); });
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) { return; }
  if (request.mode === "navigate") { event.respondWith(page(request)); return; }
  if (FINGERPRINTED.test(url.pathname)) { event.respondWith(fingerprinted(request)); return; }
  if (/^\/courses\/[^/]+\/media\//.test(url.pathname)) { event.respondWith(media(request)); return; }
});
