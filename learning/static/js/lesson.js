// The lesson page: resume where the member stopped, record progress, time and completion into the
// outbox (app.js sends it), keep quiz answers safe when offline or logged out, read text aloud.
(function () {
  "use strict";
  var doc = document;
  var root = doc.querySelector("[data-lesson-id]");
  var hf = window.Hongfan;
  if (!root || !hf || !hf.member) { return; }
  var lessonId = parseInt(root.getAttribute("data-lesson-id"), 10);
  var kind = root.getAttribute("data-kind");
  var saved = parseFloat(root.getAttribute("data-position")) || 0;
  var best = parseFloat(root.getAttribute("data-progress")) || 0;
  var completed = root.getAttribute("data-completed") === "1";
  var dwell = parseInt(root.getAttribute("data-min-dwell"), 10) || 0;
  var spentBefore = parseInt(root.getAttribute("data-time-spent"), 10) || 0;
  var notice = doc.getElementById("lesson-status");
  var say = function (key) { if (notice) { notice.textContent = root.getAttribute("data-say-" + key) || ""; notice.hidden = false; } };

  // A newer position from this phone (e.g. made offline and not yet sent) wins over the page's.
  var LOCAL = "hf-pos-" + hf.member + "-" + lessonId;
  try {
    var local = JSON.parse(localStorage.getItem(LOCAL));
    if (local && local.position > saved && local.at > Date.now() - 30 * 86400000) { saved = local.position; }
  } catch (e) { /* nothing kept */ }

  // ---- time spent: seconds while the page is visible (or while it reads aloud) -----------------
  var unsent = 0, total = spentBefore, position = saved, speaking = false;
  setInterval(function () {
    if (!doc.hidden || speaking) { unsent += 1; total += 1; maybeComplete(); }
  }, 1000);

  function progressEvent() {
    if (kind === "quiz") { return; }
    if (unsent < 1 && position === saved) { return; }
    var seconds = unsent;
    unsent = 0;
    saved = position;
    localStorage.setItem(LOCAL, JSON.stringify({position: position, at: Date.now()}));
    hf.queue({lesson_id: lessonId, kind: "progress", position: round(position), progress: round(best),
              time_spent_s: seconds});
  }
  function round(x) { return Math.round(x * 1000) / 1000; }
  setInterval(progressEvent, 30000);
  doc.addEventListener("visibilitychange", function () { if (doc.hidden) { progressEvent(); } });
  window.addEventListener("pagehide", progressEvent);

  // Text: reached the end after the minimum dwell. Media: watched ≥ 90 %. The server checks again.
  var reachedEnd = false;
  function maybeComplete() {
    if (completed || !reachedEnd || total < dwell) { return; }
    completed = true;
    var seconds = unsent;
    unsent = 0;
    hf.queue({lesson_id: lessonId, kind: "complete", position: round(position), progress: 1,
              time_spent_s: seconds});
    var tag = doc.getElementById("lesson-done");
    if (tag) { tag.hidden = false; }
    say("complete");
  }

  // ---- text lessons: scroll fraction ------------------------------------------------------------
  if (kind === "text" || kind === "pdf") {
    var scrollable = function () { return Math.max(1, doc.documentElement.scrollHeight - window.innerHeight); };
    var fraction = function () {
      return doc.documentElement.scrollHeight <= window.innerHeight + 2 ? 1 : Math.min(1, window.scrollY / scrollable());
    };
    var onScroll = function () {
      position = fraction();
      best = Math.max(best, position);
      if (position >= 0.98) { reachedEnd = true; maybeComplete(); }
    };
    if (saved > 0.02 && saved < 0.98) {
      window.scrollTo(0, saved * scrollable());
      say("resumed");
    }
    window.addEventListener("scroll", onScroll, {passive: true});
    onScroll();
    position = fraction();
  }

  // ---- video and audio: currentTime -------------------------------------------------------------
  var player = doc.querySelector("video.player, audio.player");
  if (player) {
    player.addEventListener("loadedmetadata", function () {
      if (saved > 1 && player.duration && saved < player.duration * 0.98) {
        player.currentTime = saved;
        say("resumed");
      }
    });
    player.addEventListener("timeupdate", function () {
      if (!player.duration) { return; }
      position = player.currentTime;
      best = Math.max(best, position / player.duration);
      if (best >= 0.9) { reachedEnd = true; maybeComplete(); }
    });
    player.addEventListener("pause", progressEvent);
    player.addEventListener("ended", progressEvent);
  }

  // ---- the quiz: answers are never lost ---------------------------------------------------------
  // Online with a live session the form posts as before (the result page shows the score and
  // the explanations); a held copy waits in the outbox until that page arrives. Offline, or
  // with an expired session, the answers go to the outbox and are sent when possible.
  var form = doc.querySelector("form[data-quiz]");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sending") === "1") { return; }
      event.preventDefault();
      var answers = Array.prototype.map.call(form.querySelectorAll("fieldset.question"), function (set) {
        return Array.prototype.filter.call(set.querySelectorAll("input"), function (input) { return input.checked; })
          .map(function (input) { return parseInt(input.value, 10); });
      });
      hf.queue({lesson_id: lessonId, kind: "answer", answers: answers, time_spent_s: unsent}, 60000)
        .then(function (queued) {
          unsent = 0;
          var fallBack = function (key) {
            hf.release(queued.id).then(function () { say(key); hf.refresh(); });
          };
          if (navigator.onLine === false) { fallBack("saved-offline"); return; }
          hf.session().then(function (info) {
            if (!info || info.member_id !== hf.member) { fallBack("saved-login"); return; }
            var token = form.querySelector("input[name=csrf_token]");
            if (token) { token.value = info.csrf_token; }
            form.setAttribute("data-sending", "1");
            form.submit();
          }, function () { fallBack("saved-offline"); });
        }, function () {
          form.setAttribute("data-sending", "1");  // no IndexedDB: the plain form is all there is
          form.submit();
        });
    });
  }

  // The "I have finished" button: offline it becomes a completion event instead of a form post.
  var finish = doc.querySelector("form[data-finish]");
  if (finish) {
    // The page's note of when it was served counts reading time for browsers without script
    // (learning/study/reading.py); here the study events count it, so it must not go too.
    var opened = finish.querySelector("input[name=opened]");
    if (opened) { opened.parentNode.removeChild(opened); }
    // A recording is finished by the player (90 % watched), not by the button.
    if (kind === "video" || kind === "audio") { finish.hidden = true; }
    finish.addEventListener("submit", function (event) {
      if (navigator.onLine !== false) { return; }
      event.preventDefault();
      reachedEnd = true;
      dwell = 0;
      maybeComplete();
    });
  }

  // ---- listening: the browser's Chinese speech synthesis ----------------------------------------
  var listen = doc.getElementById("listen");
  if (listen && "speechSynthesis" in window && window.SpeechSynthesisUtterance) {
    listen.hidden = false;
    var play = listen.querySelector("[data-listen-play]"), stop = listen.querySelector("[data-listen-stop]");
    var blocks = [], index = 0;
    var clear = function () {
      Array.prototype.forEach.call(doc.querySelectorAll(".lesson-body .speaking"), function (el) { el.classList.remove("speaking"); });
    };
    var finishSpeaking = function () { speaking = false; clear(); play.hidden = false; stop.hidden = true; };
    var next = function () {
      clear();
      if (index >= blocks.length) { finishSpeaking(); return; }
      var block = blocks[index++];
      block.classList.add("speaking");
      var utterance = new SpeechSynthesisUtterance(block.textContent);
      utterance.lang = root.getAttribute("data-lang") || "zh-CN";
      utterance.rate = 0.95;
      utterance.onend = next;
      utterance.onerror = finishSpeaking;
      speechSynthesis.speak(utterance);
    };
    play.addEventListener("click", function () {
      blocks = Array.prototype.filter.call(doc.querySelectorAll(".lesson-body p, .lesson-body li, .lesson-body h2, .lesson-body h3, .lesson-body blockquote"),
        function (el) { return el.textContent.trim(); });
      index = 0;
      speaking = true;
      play.hidden = true;
      stop.hidden = false;
      speechSynthesis.cancel();
      next();
    });
    stop.addEventListener("click", function () { index = blocks.length; speechSynthesis.cancel(); finishSpeaking(); });
  }
})();
