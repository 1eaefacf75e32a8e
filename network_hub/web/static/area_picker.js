// Area picker, progressive enhancement of web/templates/_area_picker.html (no inline script: CSP).
// Choosing a level fetches its children from /areas/children and shows the next select at once;
// typing a name asks /areas/search. Without this file the "เลือก" button steps through the levels.
(function () {
  var LEVELS = ["area_1", "area_2", "area_3", "area_4"];
  var TITLES = { th: ["จังหวัด", "อำเภอ", "ตำบล", "หมู่บ้าน/ชุมชน"], en: ["Province", "District", "Tambon", "Village"] };
  var lang = document.documentElement.lang === "en" ? "en" : "th";

  function fetchJson(url, done) {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.onload = function () { if (request.status === 200) done(JSON.parse(request.responseText), request); };
    request.send();
  }

  function option(value, text) {
    var o = document.createElement("option");
    o.value = value; o.textContent = text;
    return o;
  }

  function setup(fieldset) {
    var prefix = fieldset.getAttribute("data-prefix") || "";
    var action = fieldset.getAttribute("data-action") || "";
    var levels = fieldset.querySelector(".levels");
    var hidden = fieldset.querySelector('input[type=hidden][name="' + prefix + 'area"]');

    function onChange(select) {
      var depth = parseInt(select.getAttribute("data-level"), 10);
      Array.prototype.slice.call(levels.querySelectorAll("select")).forEach(function (s) {
        if (parseInt(s.getAttribute("data-level"), 10) > depth) s.closest("label").remove();
      });
      if (hidden) hidden.value = select.value;
      if (!select.value || select.value === "TH" || depth >= LEVELS.length) return;
      fetchJson("/areas/children?parent=" + encodeURIComponent(select.value) + "&action=" + encodeURIComponent(action),
        function (rows) {
          if (!rows.length) return;
          var label = document.createElement("label");
          label.appendChild(document.createTextNode(TITLES[lang][depth] + " "));
          var next = document.createElement("select");
          next.name = prefix + LEVELS[depth];
          next.setAttribute("data-level", String(depth + 1));
          next.appendChild(option("", "— " + (lang === "en" ? "choose" : "เลือก") + " —"));
          rows.forEach(function (row) { next.appendChild(option(row.code, row.name)); });
          label.appendChild(next);
          levels.appendChild(label);
        });
    }

    levels.addEventListener("change", function (event) {
      if (event.target.tagName === "SELECT") onChange(event.target);
    });

    var search = fieldset.querySelector("[data-area-search]");
    var hits = fieldset.querySelector("[data-area-hits]");
    var timer = null;
    if (search && hits) {
      search.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var q = search.value.trim();
          if (q.length < 2) { hits.textContent = ""; return; }
          fetchJson("/areas/search?q=" + encodeURIComponent(q) + "&action=" + encodeURIComponent(action), function (rows, request) {
            hits.textContent = "";
            if (!rows.length) {
              var p = document.createElement("p"); p.className = "empty"; p.setAttribute("role", "status");
              // X-Area-Outside: the name exists, but only outside the areas this form may choose.
              var outside = request.getResponseHeader("X-Area-Outside") === "1";
              p.textContent = outside
                ? (lang === "en" ? "An area of that name exists, but outside your own area, so it cannot be chosen; ask an admin if needed"
                                 : "พบพื้นที่ชื่อนี้ แต่อยู่นอกพื้นที่ที่ท่านรับผิดชอบ จึงเลือกไม่ได้ หากจำเป็นกรุณาติดต่อผู้ดูแลระบบ")
                : (lang === "en" ? "Nothing found" : "ไม่พบพื้นที่ชื่อนี้");
              hits.appendChild(p); return;
            }
            var label = document.createElement("label");
            label.appendChild(document.createTextNode(lang === "en" ? "Found " : "ผลการค้นหา "));
            var select = document.createElement("select");
            select.name = prefix + "area_hit";
            select.appendChild(option("", "—"));
            rows.forEach(function (row) { select.appendChild(option(row.code, row.name)); });
            label.appendChild(select);
            hits.appendChild(label);
          });
        }, 250);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("fieldset.area-picker"), setup);
  });
})();
