// List exports with a progress indication (issue 18 item 6, docs/decisions/0045). A plain click
// on an export link (a[data-export]) fetches the file instead of navigating, shows how many rows
// have arrived of the total the server announces (X-Total-Count) in the list's status line
// ([data-export-progress]), and hands the file to the browser when it is complete. Without this
// script, with a modifier key, or when the server answers with a page (a refusal), the link
// behaves as a plain link. Rows are counted as they arrive: CSV lines, and the XLSX's sheet
// inflated on the fly (the parts before it are stored with their sizes, qms/xlsxstream.py).
(function () {
  var SHEET = "xl/worksheets/sheet1.xml";
  var TEXT_EVERY_MS = 1000; // the status line is read aloud: not more often than this
  var running = false;

  function number(n) { return n.toLocaleString("en-GB"); }
  function megabytes(bytes) {
    if (bytes < 1e6) return Math.ceil(bytes / 1e3) + " KB";
    return (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0) + " MB";
  }

  function csvCounter() {
    var lines = 0;
    return {
      feed: function (bytes) { for (var i = 0; i < bytes.length; i++) if (bytes[i] === 10) lines++; },
      rows: function () { return Math.max(lines - 1, 0); } // the header line is not a row
    };
  }

  function joined(a, b) {
    var c = new Uint8Array(a.length + b.length);
    c.set(a); c.set(b, a.length);
    return c;
  }

  // Steps over the stored parts by their local headers, then inflates the sheet and counts
  // its rows. Null where the browser cannot inflate (the bar then follows nothing but time).
  function xlsxCounter() {
    if (typeof DecompressionStream === "undefined" || typeof TextDecoder === "undefined") return null;
    var pending = new Uint8Array(0), skip = 0, writer = null, stopped = false, rows = 0, tail = "";
    var names = new TextDecoder(), text = new TextDecoder();

    function inflate() {
      var stream = new DecompressionStream("deflate-raw");
      var reader = stream.readable.getReader();
      (function pump() {
        reader.read().then(function (part) {
          if (part.done) return;
          var parts = (tail + text.decode(part.value, { stream: true })).split("</row>");
          rows += parts.length - 1;
          tail = parts[parts.length - 1].slice(-5);
          pump();
        }, function () { stopped = true; }); // the bytes after the sheet end its stream
      })();
      return stream.writable.getWriter();
    }

    function feed(bytes) {
      if (stopped) return;
      if (writer) { writer.write(bytes).catch(function () { stopped = true; }); return; }
      pending = joined(pending, bytes);
      while (!writer && !stopped) {
        if (skip) {
          var n = Math.min(skip, pending.length);
          pending = pending.subarray(n); skip -= n;
          if (skip) return;
        }
        if (pending.length < 30) return;
        var view = new DataView(pending.buffer, pending.byteOffset, pending.byteLength);
        if (view.getUint32(0, true) !== 0x04034b50) { stopped = true; return; } // not a local header
        var nameLength = view.getUint16(26, true), start = 30 + nameLength + view.getUint16(28, true);
        if (pending.length < start) return;
        var name = names.decode(pending.subarray(30, 30 + nameLength));
        var size = view.getUint32(18, true);
        pending = pending.subarray(start);
        if (name === SHEET) {
          writer = inflate();
          if (pending.length) writer.write(pending).catch(function () { stopped = true; });
        } else {
          skip = size;
        }
      }
    }
    return { feed: feed, rows: function () { return rows; } };
  }

  function filename(response, link) {
    var match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    return match ? match[1] : "export." + link.getAttribute("data-export");
  }

  function save(chunks, type, name) {
    var url = URL.createObjectURL(new Blob(chunks, { type: type }));
    var a = document.createElement("a");
    a.href = url; a.download = name; a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  function start(link, box) {
    var bar = box.querySelector("progress"), status = box.querySelector("[data-export-status]");
    var format = link.getAttribute("data-export"), lastText = 0;
    running = true;
    box.classList.add("active");
    box.setAttribute("aria-busy", "true");
    bar.hidden = false;
    bar.removeAttribute("value"); // indeterminate until the total is known
    status.textContent = "Preparing export…";

    function finish(message) {
      running = false;
      bar.hidden = true;
      box.removeAttribute("aria-busy");
      status.textContent = message;
    }

    fetch(link.href, { credentials: "same-origin" }).then(function (response) {
      var disposition = response.headers.get("Content-Disposition") || "";
      if (!response.ok || disposition.indexOf("attachment") !== 0 || !response.body) {
        finish("");
        box.classList.remove("active");
        window.location.assign(link.href); // let the server's own page say what is wrong
        return;
      }
      var total = parseInt(response.headers.get("X-Total-Count") || "", 10);
      var counter = format === "csv" ? csvCounter() : xlsxCounter();
      var reader = response.body.getReader(), chunks = [], received = 0;
      if (total >= 0) { bar.max = Math.max(total, 1); bar.value = 0; }

      function show(force) {
        var rows = counter ? Math.min(counter.rows(), total >= 0 ? total : Infinity) : null;
        if (total >= 0 && rows !== null) bar.value = rows;
        var now = Date.now();
        if (!force && now - lastText < TEXT_EVERY_MS) return;
        lastText = now;
        var text = "Preparing export… ";
        if (rows !== null && total >= 0) text += number(rows) + " of " + number(total) + " rows";
        else if (total >= 0) text += number(total) + " rows";
        status.textContent = text + " (" + megabytes(received) + ")";
      }
      show(true);

      function pump() {
        return reader.read().then(function (part) {
          if (part.done) {
            save(chunks, response.headers.get("Content-Type") || "", filename(response, link));
            var count = total >= 0 ? number(total) + (total === 1 ? " row" : " rows") : megabytes(received);
            finish("Export ready: " + filename(response, link) + ", " + count + ".");
            return;
          }
          chunks.push(part.value);
          received += part.value.length;
          if (counter) counter.feed(part.value);
          show(false);
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      finish("The export stopped before it was complete. Please try again.");
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-export]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var box = link.parentElement.querySelector("[data-export-progress]");
    if (!box || !window.fetch || !window.ReadableStream || !URL.createObjectURL) return;
    event.preventDefault();
    if (!running) start(link, box);
  });
})();
