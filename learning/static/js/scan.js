// The station's scanner (驿站): read the member's QR code with the camera and look the code up
// with the form below it. The browser's own BarcodeDetector reads it where there is one (Android's
// Chrome); elsewhere jsQR (vendor/jsqr, Apache 2.0) is loaded the first time the scanner starts.
// Typing the 12 digits always works: without a camera, or permission, nothing else changes.
(function () {
  "use strict";
  var box = document.getElementById("scanner");
  var form = document.querySelector("form[data-code-form]");
  var media = navigator.mediaDevices;
  if (!box || !form || !media || !media.getUserMedia || !window.isSecureContext) { return; }
  var input = form.querySelector("input[name=code]");
  var video = box.querySelector("[data-scan-video]");
  var start = box.querySelector("[data-scan-start]");
  var stop = box.querySelector("[data-scan-stop]");
  var status = box.querySelector("[data-scan-status]");
  var CODE = /^[0-9]{12}$/;  // learning/redemption/operations.py CODE_DIGITS
  var stream = null, timer = null, canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", {willReadFrequently: true});
  box.hidden = false;

  function say(key) { status.textContent = box.getAttribute("data-say-" + key) || ""; }

  function decoder() {
    // A function from the video to a promise of the text of a QR code in view ("" if none).
    if ("BarcodeDetector" in window && window.BarcodeDetector.getSupportedFormats) {
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") < 0) { return withJsQR(); }
        var detector = new window.BarcodeDetector({formats: ["qr_code"]});
        return function () {
          return detector.detect(video).then(function (found) { return found.length ? found[0].rawValue : ""; });
        };
      }, withJsQR);
    }
    return withJsQR();
  }

  function withJsQR() {
    return new Promise(function (resolve, reject) {
      var ready = function () {
        resolve(function () {
          var width = Math.min(video.videoWidth, 640);
          var height = Math.round(video.videoHeight * width / video.videoWidth);
          if (!width || !height) { return Promise.resolve(""); }
          canvas.width = width;
          canvas.height = height;
          context.drawImage(video, 0, 0, width, height);
          var found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height,
                                  {inversionAttempts: "dontInvert"});
          return Promise.resolve(found ? found.data : "");
        });
      };
      if (window.jsQR) { ready(); return; }
      var script = document.createElement("script");
      script.src = box.getAttribute("data-decoder");
      script.onload = ready;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function end() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  function look(read) {
    if (!stream) { return; }
    read().then(function (text) {
      var digits = (text || "").replace(/\s+/g, "");
      if (CODE.test(digits)) {
        say("found");
        end();
        input.value = digits;
        form.submit();
        return;
      }
      if (text) { say("other"); }
      timer = setTimeout(function () { look(read); }, 200);
    }, function () { timer = setTimeout(function () { look(read); }, 500); });
  }

  start.addEventListener("click", function () {
    start.hidden = true;
    media.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (camera) {
      stream = camera;
      video.srcObject = camera;
      video.hidden = false;
      stop.hidden = false;
      say("looking");
      return video.play().then(decoder).then(look);
    }).catch(function (error) {
      end();
      say(error && (error.name === "NotAllowedError" || error.name === "SecurityError") ? "denied" : "failed");
    });
  });
  stop.addEventListener("click", function () { end(); status.textContent = ""; });
  // A phone put away stops filming.
  document.addEventListener("visibilitychange", function () { if (document.hidden) { end(); } });
  window.addEventListener("pagehide", end);
})();
