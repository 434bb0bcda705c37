// The alert board, live: EventSource on the console's stream (the session cookie travels
// with it); each alert event re-fetches the server-rendered table. The browser resends
// Last-Event-ID when it reconnects by itself; when it gives up (the hub answered with an
// error while restarting) this script reconnects with ?after= the last id it saw, so a
// restart loses nothing.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var live = document.getElementById("live");
  var cue = document.getElementById("cue");
  var streamUrl = board.dataset.stream;
  var lastId = null;
  var busy = false;
  var again = false;
  var audio = null;

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(board.dataset.rows, { credentials: "same-origin" })
      .then(function (r) {
        // Sent to sign-in (the session ended): go there instead of showing it in the table.
        if (r.redirected) { window.location.assign(r.url); return Promise.reject(r.status); }
        return r.ok ? r.text() : Promise.reject(r.status);
      })
      .then(function (html) { board.innerHTML = html; })
      .catch(function () { /* the next event or the timer tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function beep() {
    // WebAudio: no sound file to ship. Browsers allow it after the first click on the page.
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.6);
    } catch (e) { /* no audio device: the visual cue remains */ }
  }

  function alarm(msg) {
    cue.hidden = false;
    cue.dataset.alert = msg.alert_id;
    document.title = "(!) " + document.title.replace(/^\(!\) /, "");
    beep();
  }

  function status(on) {
    live.textContent = on ? live.dataset.live : live.dataset.reconnecting;
    live.className = on ? "live on" : "live";
  }

  function connect() {
    var url = lastId === null ? streamUrl : streamUrl.replace(/after=\d*/, "after=" + lastId);
    var source = new EventSource(url);
    source.onopen = function () { status(true); refresh(); };
    source.addEventListener("alert", function (e) {
      lastId = e.lastEventId;
      var msg = JSON.parse(e.data);
      if (msg.change === "new" && msg.severity === "critical") { alarm(msg); }
      refresh();
    });
    source.onerror = function () {
      status(false);
      if (source.readyState === EventSource.CLOSED) {
        refresh(); // an ended session shows here as a redirect to sign-in
        setTimeout(connect, 1000);
      }
    };
  }

  document.addEventListener("click", function () {
    cue.hidden = true;
    document.title = document.title.replace(/^\(!\) /, "");
    if (audio && audio.state === "suspended") { audio.resume(); }
  });
  setInterval(refresh, 30000); // the ages move on
  connect();
})();
