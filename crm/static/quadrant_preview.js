// The record form's quadrant preview (experiences/record.html): as staff type the revised
// liquid assets or willingness, or choose the response, the form says which quadrant the
// customer will land in and whether that is a move. The thresholds, the current figures and
// the responses' deltas come from the page's data attributes, so nothing is asked of the
// server; the server still decides when the record is saved (tiering.quadrant_for), with the
// same rule: capability high at or above its threshold, willingness likewise. Without this
// script the form works as before and the sentence states the thresholds.
(function () {
  "use strict";

  // Full-width digits and points, as a Chinese input method types them.
  function halfWidth(text) {
    return text.replace(/[\uff10-\uff19\uff0e]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    });
  }

  // An amount in fen (an integer, so that no rounding decides a quadrant), or null.
  function fen(text) {
    var plain = halfWidth(text).replace(/[\s,，¥￥]/g, "").replace(/元$/, "");
    var match = /^(\d+)(?:\.(\d{0,2}))?$/.exec(plain);
    if (!match) {
      return null;
    }
    var cents = (match[2] || "").padEnd(2, "0");
    return Number(match[1]) * 100 + Number(cents);
  }

  function score(text) {
    var plain = halfWidth(text).trim();
    if (!/^\d{1,3}$/.test(plain)) {
      return null;
    }
    var value = Number(plain);
    return value <= 100 ? value : null;
  }

  function quadrantFor(assetsFen, willingness, capabilityFen, willingnessThreshold) {
    var high = assetsFen >= capabilityFen;
    var willing = willingness >= willingnessThreshold;
    if (high) {
      return willing ? "pamper" : "cultivate";
    }
    return willing ? "maintain" : "develop";
  }

  function start(form) {
    var out = form.querySelector(".quadrant-preview");
    if (!out) {
      return;
    }
    var data = out.dataset;
    var names = JSON.parse(data.names);
    var deltas = JSON.parse(data.deltas);
    var capability = fen(data.capability);
    var threshold = Number(data.willingness);
    var current = data.quadrant;

    function value(name) {
      var field = form.elements[name];
      return field ? field.value : "";
    }

    function badge(quadrant) {
      var span = document.createElement("span");
      span.className = "badge q-" + quadrant;
      span.textContent = names[quadrant];
      return span;
    }

    // A translated sentence whose %(name)s places are filled with badges.
    function sentence(template, badges) {
      var parts = template.split(/%\((\w+)\)s/);
      var nodes = [];
      parts.forEach(function (part, i) {
        if (i % 2 === 1) {
          nodes.push(badges[part] ? badge(badges[part]) : document.createTextNode(""));
        } else if (part) {
          nodes.push(document.createTextNode(part));
        }
      });
      return nodes;
    }

    function update() {
      var cancelled = value("outcome") === "cancelled";
      var assetsText = value("liquid_assets").trim();
      var scoreText = value("willingness").trim();
      var assets = cancelled || !assetsText ? fen(data.assets) : fen(assetsText);
      var willingness;
      if (cancelled) {
        willingness = Number(data.score);
      } else if (!scoreText) {
        // Empty: the response moves it by its delta, within 0 to 100 (as the server does).
        // A no-show without a response counts as no response (recording._read_response).
        var response = value("response") || (value("outcome") === "no_show" ? "no_response" : "");
        var delta = deltas[response] || 0;
        willingness = Math.min(100, Math.max(0, Number(data.score) + delta));
      } else {
        willingness = score(scoreText);
      }
      var nodes;
      if (assets === null || willingness === null) {
        out.dataset.landing = "";
        nodes = [document.createTextNode(data.unreadable)];
      } else {
        var landing = quadrantFor(assets, willingness, capability, threshold);
        out.dataset.landing = landing;
        nodes =
          landing === current
            ? sentence(data.stays, { quadrant: landing })
            : sentence(data.moves, { old: current, new: landing });
      }
      out.replaceChildren.apply(out, nodes);
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-quadrant-preview]").forEach(start);
  });
})();
