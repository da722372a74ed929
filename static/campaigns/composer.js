/* rcsportal message composer: vanilla JS, no build step.
 *
 * The form value is the canonical JSON in the widget's <textarea> (it works without
 * JavaScript). This script builds, next to it, a visual editor of exactly that document,
 * a live phone-like preview, the fallback SMS preview (GSM-7 / UCS-2, segments: the same
 * rules as rcsportal/messaging/sms.py), RBM-wide validation (message.py) and the selected
 * agent's provider checks (a port of BaseProvider.check, refined by the server's answer).
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ SMS (sms.py port)
  var GSM7_BASIC =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENSION = "\f^{}\\[~]|€";
  var GSM_BASIC_SET = new Set(Array.from(GSM7_BASIC));
  var GSM_EXT_SET = new Set(Array.from(GSM7_EXTENSION));

  function isGsm7(text) {
    for (var ch of text) {
      if (!GSM_BASIC_SET.has(ch) && !GSM_EXT_SET.has(ch)) return false;
    }
    return true;
  }

  function packSegments(costs, single, multi) {
    var units = 0;
    for (var i = 0; i < costs.length; i++) units += costs[i];
    if (units === 0) return [0, 0, single, single];
    if (units <= single) return [units, 1, single, single - units];
    var segments = 1, used = 0;
    for (var j = 0; j < costs.length; j++) {
      if (used + costs[j] > multi) { segments += 1; used = 0; }
      used += costs[j];
    }
    return [units, segments, multi, multi - used];
  }

  /** Same contract as sms.segment_info(text): {encoding, lengthUnits, segments, perSegment, remaining, characters}. */
  function segmentInfo(text, encoding) {
    text = text || "";
    encoding = encoding || (isGsm7(text) ? "GSM-7" : "UCS-2");
    var chars = Array.from(text);
    var costs = chars.map(function (ch) {
      if (encoding === "GSM-7") return GSM_EXT_SET.has(ch) ? 2 : 1;
      return ch.length; // UTF-16 code units: 2 outside the BMP
    });
    var r = encoding === "GSM-7" ? packSegments(costs, 160, 153) : packSegments(costs, 70, 67);
    return {
      encoding: encoding, lengthUnits: r[0], segments: r[1], perSegment: r[2],
      remaining: r[3], characters: chars.length
    };
  }

  // ------------------------------------------------------------------ small helpers
  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return ESC[c]; }); }
  function clen(s) { var n = 0; for (var _c of (s || "")) n++; return n; } // code points, like Python len()
  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function clone(v) { return JSON.parse(JSON.stringify(v)); }
  function splitPath(path) { return path === "" ? [] : path.split("."); }
  function key(k) { return /^\d+$/.test(k) ? parseInt(k, 10) : k; }

  function getPath(obj, path) {
    var parts = splitPath(path), cur = obj;
    for (var i = 0; i < parts.length; i++) {
      if (cur == null) return undefined;
      cur = cur[key(parts[i])];
    }
    return cur;
  }
  function setPath(obj, path, value) {
    var parts = splitPath(path), cur = obj;
    for (var i = 0; i < parts.length - 1; i++) {
      var k = key(parts[i]);
      if (cur[k] == null || typeof cur[k] !== "object") cur[k] = /^\d+$/.test(parts[i + 1]) ? [] : {};
      cur = cur[k];
    }
    cur[key(parts[parts.length - 1])] = value;
  }
  function deletePath(obj, path) {
    var parts = splitPath(path);
    var parent = getPath(obj, parts.slice(0, -1).join("."));
    if (parent && typeof parent === "object") delete parent[key(parts[parts.length - 1])];
  }
  function parentPath(path) { var p = splitPath(path); p.pop(); return p.join("."); }

  var PLACEHOLDER_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;
  var HTTP_URL_RE = /^https?:\/\/[^\s/?#]+/i;
  var PHONE_RE = /^\+[0-9]{6,15}$/;
  var RFC3339_RE = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

  function isHttpUrl(v) { return typeof v === "string" && HTTP_URL_RE.test(v); }
  function parseRfc3339(v) {
    if (typeof v !== "string" || !RFC3339_RE.test(v)) return null;
    var t = Date.parse(v);
    return isNaN(t) ? null : t;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function toLocalInput(v) {
    var t = parseRfc3339(v);
    if (t == null) return "";
    var d = new Date(t);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function fromLocalInput(v) {
    if (!v) return "";
    var d = new Date(v);
    if (isNaN(d.getTime())) return "";
    var off = -d.getTimezoneOffset();
    var tz = off === 0 ? "Z" : (off > 0 ? "+" : "-") + pad(Math.floor(Math.abs(off) / 60)) + ":" + pad(Math.abs(off) % 60);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + tz;
  }
  function fmtBytes(n) {
    if (n == null) return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }
  function guessMime(url) {
    var m = /\.([a-z0-9]{2,5})(?:[?#]|$)/i.exec(url || "");
    var ext = m ? m[1].toLowerCase() : "";
    return ({ jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", mp4: "video/mp4",
      m4v: "video/m4v", webm: "video/webm", pdf: "application/pdf", mp3: "audio/mpeg" })[ext] || "";
  }

  // ------------------------------------------------------------------ document shape
  function kindOf(doc) {
    var rc = doc.richCard;
    if (isObj(rc)) return "carouselCard" in rc ? "carousel" : ("standaloneCard" in rc ? "card" : "card");
    if ("contentInfo" in doc) return "file";
    return "text";
  }
  function cardsOf(doc) {
    var out = [], rc = doc.richCard;
    if (!isObj(rc)) return out;
    if (isObj(rc.standaloneCard)) out.push(["richCard.standaloneCard.cardContent", rc.standaloneCard.cardContent || {}]);
    if (isObj(rc.carouselCard) && Array.isArray(rc.carouselCard.cardContents)) {
      rc.carouselCard.cardContents.forEach(function (c, i) { out.push(["richCard.carouselCard.cardContents." + i, c || {}]); });
    }
    return out;
  }
  function suggestionLists(doc) {
    var out = [["suggestions", Array.isArray(doc.suggestions) ? doc.suggestions : []]];
    cardsOf(doc).forEach(function (pc) { out.push([pc[0] + ".suggestions", Array.isArray(pc[1].suggestions) ? pc[1].suggestions : []]); });
    return out;
  }
  var ACTION_TYPES = [
    ["openUrlAction", "open_url"], ["dialAction", "dial"], ["viewLocationAction", "view_location"],
    ["createCalendarEventAction", "create_calendar_event"], ["shareLocationAction", "share_location"]
  ];
  var SUGGESTION_LABELS = {
    reply: "Reply", open_url: "Open a URL", dial: "Call a number", view_location: "Show a location",
    share_location: "Ask for the location", create_calendar_event: "Add a calendar event"
  };
  function suggestionType(s) {
    if (!isObj(s)) return "";
    if (isObj(s.reply)) return "reply";
    if (!isObj(s.action)) return "";
    for (var i = 0; i < ACTION_TYPES.length; i++) if (ACTION_TYPES[i][0] in s.action) return ACTION_TYPES[i][1];
    return "";
  }
  function suggestionInner(s) { return isObj(s) ? (s.reply || s.action || {}) : {}; }
  function newSuggestion(type, text, postback) {
    var base = { text: text || "" };
    if (postback) base.postbackData = postback;
    switch (type) {
      case "reply": return { reply: base };
      case "open_url": base.openUrlAction = { url: "" }; break;
      case "dial": base.dialAction = { phoneNumber: "" }; break;
      case "view_location": base.viewLocationAction = { latLong: {} }; break;
      case "share_location": base.shareLocationAction = {}; break;
      case "create_calendar_event": base.createCalendarEventAction = { startTime: "", endTime: "", title: "" }; break;
    }
    return { action: base };
  }

  // Personalizable text fields (message.py _text_fields), for placeholder syntax checks.
  function textFields(doc) {
    var out = [];
    function push(path, v) { if (typeof v === "string") out.push([path, v]); }
    push("text", doc.text);
    function ci(c, p) { if (isObj(c)) { push(p + ".fileUrl", c.fileUrl); push(p + ".thumbnailUrl", c.thumbnailUrl); push(p + ".fileName", c.fileName); } }
    ci(doc.contentInfo, "contentInfo");
    function sug(s, p) {
      if (!isObj(s)) return;
      if (isObj(s.reply)) { push(p + ".reply.text", s.reply.text); push(p + ".reply.postbackData", s.reply.postbackData); }
      var a = s.action;
      if (!isObj(a)) return;
      push(p + ".action.text", a.text); push(p + ".action.postbackData", a.postbackData); push(p + ".action.fallbackUrl", a.fallbackUrl);
      if (isObj(a.openUrlAction)) push(p + ".action.openUrlAction.url", a.openUrlAction.url);
      if (isObj(a.viewLocationAction)) { push(p + ".action.viewLocationAction.label", a.viewLocationAction.label); push(p + ".action.viewLocationAction.query", a.viewLocationAction.query); }
      if (isObj(a.createCalendarEventAction)) { push(p + ".action.createCalendarEventAction.title", a.createCalendarEventAction.title); push(p + ".action.createCalendarEventAction.description", a.createCalendarEventAction.description); }
    }
    cardsOf(doc).forEach(function (pc) {
      push(pc[0] + ".title", pc[1].title); push(pc[0] + ".description", pc[1].description);
      if (isObj(pc[1].media)) ci(pc[1].media.contentInfo, pc[0] + ".media.contentInfo");
      (pc[1].suggestions || []).forEach(function (s, i) { sug(s, pc[0] + ".suggestions." + i); });
    });
    (doc.suggestions || []).forEach(function (s, i) { sug(s, "suggestions." + i); });
    var fb = doc.fallback;
    if (isObj(fb) && isObj(fb.sms)) push("fallback.sms.text", fb.sms.text);
    if (isObj(fb) && isObj(fb.mms)) { push("fallback.mms.text", fb.mms.text); push("fallback.mms.subject", fb.mms.subject); push("fallback.mms.mediaUrl", fb.mms.mediaUrl); }
    return out;
  }

  // ------------------------------------------------------------------ RBM-wide validation (message.py port)
  function validate(doc, cfg) {
    var L = cfg.limits, P = [];
    function add(path, text) { P.push({ path: path, text: text, level: "error" }); }
    function len(v, max, path) { var n = clen(v || ""); if (n > max) add(path, "at most " + max + " characters (got " + n + ")"); }
    function url(v, max, path) { if (!isHttpUrl(v)) add(path, "must be an http:// or https:// URL"); len(v, max, path); }
    function choice(v, allowed, path) { if (v && allowed.indexOf(v) < 0) add(path, "must be one of " + allowed.slice().sort().join(", ")); }
    function count(list, max, path) { if (Array.isArray(list) && list.length > max) add(path, "at most " + max + " items (got " + list.length + ")"); }
    if (!isObj(doc)) { add("", "must be an object"); return P; }
    var given = [];
    if (doc.text) given.push("text");
    if ("contentInfo" in doc) given.push("contentInfo");
    if ("richCard" in doc) given.push("richCard");
    if (given.length > 1) add("", "give exactly one of text, contentInfo, richCard (got " + given.join(", ") + ")");
    var kind = kindOf(doc);
    if (kind === "text" && !doc.text) add("text", "must not be empty");
    len(doc.text, L.text, "text");

    function contentInfo(c, path, types) {
      if (!isObj(c)) { add(path, "required"); return; }
      if (!c.fileUrl) add(path + ".fileUrl", "required"); else url(c.fileUrl, L.media_url, path + ".fileUrl");
      if (c.thumbnailUrl) url(c.thumbnailUrl, L.media_url, path + ".thumbnailUrl");
      if (c.mimeType && types.indexOf(c.mimeType) < 0) add(path + ".mimeType", "unsupported media type '" + c.mimeType + "'");
      if (c.thumbnailMimeType && cfg.thumbnailMediaTypes.indexOf(c.thumbnailMimeType) < 0) add(path + ".thumbnailMimeType", "unsupported thumbnail type '" + c.thumbnailMimeType + "'");
    }
    if ("contentInfo" in doc) contentInfo(doc.contentInfo, "contentInfo", cfg.fileMediaTypes);

    function suggestion(s, path) {
      if (!isObj(s) || (isObj(s.reply) === isObj(s.action))) { add(path, "give exactly one of reply, action"); return; }
      var inner = suggestionInner(s), leaf = path + (s.reply ? ".reply" : ".action");
      var n = clen(inner.text || "");
      if (n < L.suggestion_text_min || n > L.suggestion_text) add(leaf + ".text", "must be " + L.suggestion_text_min + " to " + L.suggestion_text + " characters (got " + n + ")");
      len(inner.postbackData, L.postback_data, leaf + ".postbackData");
      if (!s.action) return;
      var a = s.action;
      if (a.fallbackUrl) url(a.fallbackUrl, L.url, leaf + ".fallbackUrl");
      var types = ACTION_TYPES.filter(function (t) { return t[0] in a; });
      if (types.length !== 1) add(leaf, "give exactly one of openUrlAction, dialAction, viewLocationAction, createCalendarEventAction, shareLocationAction");
      if (isObj(a.openUrlAction)) {
        var o = a.openUrlAction;
        url(o.url || "", L.url, leaf + ".openUrlAction.url");
        choice(o.application, cfg.urlApplications, leaf + ".openUrlAction.application");
        if (o.webviewViewMode) {
          if (cfg.webviewViewModes.indexOf(o.webviewViewMode) < 0) add(leaf + ".openUrlAction.webviewViewMode", "must be FULL, HALF or TALL");
          else if (o.application !== "WEBVIEW") add(leaf + ".openUrlAction.webviewViewMode", "only allowed with application WEBVIEW");
        }
      }
      if (isObj(a.dialAction) && !PHONE_RE.test(a.dialAction.phoneNumber || "")) add(leaf + ".dialAction.phoneNumber", "must be E.164: + then 6 to 15 digits");
      if (isObj(a.viewLocationAction)) {
        var v = a.viewLocationAction, vp = leaf + ".viewLocationAction";
        if (!isObj(v.latLong) && !v.query) add(vp, "give latLong or query");
        if (isObj(v.latLong)) {
          var la = v.latLong.latitude, lo = v.latLong.longitude;
          if (typeof la !== "number") add(vp + ".latLong.latitude", "required");
          else if (la < -90 || la > 90) add(vp + ".latLong.latitude", "must be between -90 and 90");
          if (typeof lo !== "number") add(vp + ".latLong.longitude", "required");
          else if (lo < -180 || lo > 180) add(vp + ".latLong.longitude", "must be between -180 and 180");
        }
      }
      if (isObj(a.createCalendarEventAction)) {
        var c = a.createCalendarEventAction, cp = leaf + ".createCalendarEventAction";
        var st = parseRfc3339(c.startTime), en = parseRfc3339(c.endTime);
        if (st == null) add(cp + ".startTime", "must be an RFC 3339 time, e.g. 2025-06-30T19:00:00Z");
        if (en == null) add(cp + ".endTime", "must be an RFC 3339 time, e.g. 2025-06-30T19:30:00Z");
        if (st != null && en != null && en <= st) add(cp + ".endTime", "must be after startTime");
        if (!c.title) add(cp + ".title", "must not be empty");
      }
    }
    function card(content, path, width) {
      if (!isObj(content)) { add(path, "must be an object"); return; }
      if (!(content.title || content.description || isObj(content.media))) add(path, "a card needs at least one of title, description, media");
      len(content.title, L.card_title, path + ".title");
      len(content.description, L.card_description, path + ".description");
      if (isObj(content.media)) {
        var m = content.media;
        choice(m.height, cfg.mediaHeights, path + ".media.height");
        if (m.height === "TALL" && width === "SMALL") add(path + ".media.height", "TALL media is not allowed in a SMALL carousel");
        if (!isObj(m.contentInfo)) add(path + ".media.contentInfo", "required");
        else contentInfo(m.contentInfo, path + ".media.contentInfo", cfg.cardMediaTypes);
      }
      count(content.suggestions, L.card_suggestions, path + ".suggestions");
      (content.suggestions || []).forEach(function (s, i) { suggestion(s, path + ".suggestions." + i); });
    }
    if ("richCard" in doc) {
      var rc = doc.richCard;
      if (!isObj(rc) || (isObj(rc.standaloneCard) === isObj(rc.carouselCard))) add("richCard", "give exactly one of standaloneCard, carouselCard");
      if (isObj(rc) && isObj(rc.standaloneCard)) {
        var sc = rc.standaloneCard, sp = "richCard.standaloneCard";
        var orient = sc.cardOrientation || "VERTICAL";
        if (cfg.cardOrientations.indexOf(orient) < 0) add(sp + ".cardOrientation", "must be VERTICAL or HORIZONTAL");
        if (sc.thumbnailImageAlignment) {
          if (cfg.thumbnailAlignments.indexOf(sc.thumbnailImageAlignment) < 0) add(sp + ".thumbnailImageAlignment", "must be LEFT or RIGHT");
          else if (orient !== "HORIZONTAL") add(sp + ".thumbnailImageAlignment", "only allowed with HORIZONTAL orientation");
        }
        card(sc.cardContent, sp + ".cardContent", "");
      }
      if (isObj(rc) && isObj(rc.carouselCard)) {
        var cc = rc.carouselCard, cpth = "richCard.carouselCard", width = cc.cardWidth || "MEDIUM";
        if (cfg.cardWidths.indexOf(width) < 0) add(cpth + ".cardWidth", "must be SMALL or MEDIUM");
        var n = (cc.cardContents || []).length;
        if (n < L.carousel_cards_min || n > L.carousel_cards) add(cpth + ".cardContents", "a carousel needs " + L.carousel_cards_min + " to " + L.carousel_cards + " cards (got " + n + ")");
        (cc.cardContents || []).forEach(function (c, i) { card(c, cpth + ".cardContents." + i, width); });
      }
    }
    count(doc.suggestions, L.message_suggestions, "suggestions");
    (doc.suggestions || []).forEach(function (s, i) { suggestion(s, "suggestions." + i); });
    if ("fallback" in doc) {
      var fb = doc.fallback || {};
      if (!isObj(fb.sms) && !isObj(fb.mms)) add("fallback", "give sms and/or mms");
      if (isObj(fb.sms) && !fb.sms.text) add("fallback.sms.text", "must not be empty");
      if (isObj(fb.mms)) {
        if (!fb.mms.text) add("fallback.mms.text", "must not be empty");
        if (fb.mms.mediaUrl) url(fb.mms.mediaUrl, L.media_url, "fallback.mms.mediaUrl");
      }
    }
    textFields(doc).forEach(function (pv) {
      var rest = pv[1].replace(PLACEHOLDER_RE, "");
      if (rest.indexOf("{{") >= 0 || rest.indexOf("}}") >= 0) add(pv[0], "malformed placeholder: write {{ name }} with a name like first_name");
    });
    var size = new TextEncoder().encode(JSON.stringify(doc)).length;
    if (size > L.document_bytes) add("", "the message is " + size + " bytes as JSON; at most " + L.document_bytes);
    return P;
  }

  // ------------------------------------------------------------------ provider checks (BaseProvider.check port)
  function providerCheck(doc, prov, cfg) {
    var caps = prov.capabilities, name = prov.name, out = [];
    function add(path, reason) {
      var keys = Array.prototype.slice.call(arguments, 2).filter(function (k) { return prov.degradations.indexOf(k) >= 0; });
      out.push({ path: path, reason: reason, level: "warning", degradations: keys.map(function (k) { return { key: k, label: cfg.degradations[k] || k }; }) });
    }
    var kind = kindOf(doc), names = { text: "text", file: "file", card: "rich card", carousel: "carousel" };
    if (caps.kinds.indexOf(kind) < 0) {
      var kp = { text: "text", file: "contentInfo", card: "richCard.standaloneCard", carousel: "richCard.carouselCard" }[kind];
      var keys = [];
      if (kind === "carousel" && caps.kinds.indexOf("card") >= 0) keys.push("first_card");
      if (kind === "file" && caps.kinds.indexOf("card") >= 0) keys.push("file_as_card");
      add.apply(null, [kp, name + " cannot send a " + names[kind] + " message"].concat(keys));
    }
    if (kind === "text" && caps.max_text_length && clen(doc.text) > caps.max_text_length)
      add("text", name + " accepts at most " + caps.max_text_length + " characters of text (" + clen(doc.text) + " given)", "truncate", "text_as_card");
    if (kind === "file" && isObj(doc.contentInfo)) {
      var ci = doc.contentInfo;
      if (caps.requires_media_metadata) {
        if (!ci.mimeType) add("contentInfo.mimeType", name + " needs the media MIME type (e.g. image/png)");
        if (!ci.fileSizeBytes) add("contentInfo.fileSizeBytes", name + " needs the media file size in bytes");
      }
      if (ci.thumbnailUrl && !caps.thumbnails) add("contentInfo.thumbnailUrl", name + " has no thumbnail field for files", "drop_extras");
    }
    var rc = isObj(doc.richCard) ? doc.richCard : null;
    if (rc && isObj(rc.carouselCard) && caps.kinds.indexOf(kind) >= 0) {
      var n = (rc.carouselCard.cardContents || []).length;
      if (n < caps.min_carousel_cards) add("richCard.carouselCard.cardContents", name + " needs at least " + caps.min_carousel_cards + " cards in a carousel (" + n + " given)", "first_card");
      if (n > caps.max_carousel_cards) add("richCard.carouselCard.cardContents", name + " accepts at most " + caps.max_carousel_cards + " cards in a carousel (" + n + " given)", "trim_cards", "first_card");
      var w = rc.carouselCard.cardWidth;
      if (w && w !== "MEDIUM" && !caps.card_width) add("richCard.carouselCard.cardWidth", name + " has no card width setting (only its default)", "default_layout");
    }
    if (rc && isObj(rc.standaloneCard) && rc.standaloneCard.cardOrientation === "HORIZONTAL" && !caps.card_orientation)
      add("richCard.standaloneCard.cardOrientation", name + " only shows vertical cards", "vertical");
    cardsOf(doc).forEach(function (pc) {
      var p = pc[0], c = pc[1];
      if (caps.max_card_title && clen(c.title) > caps.max_card_title) add(p + ".title", name + " accepts card titles of at most " + caps.max_card_title + " characters (" + clen(c.title) + " given)", "truncate");
      if (caps.max_card_description && clen(c.description) > caps.max_card_description) add(p + ".description", name + " accepts card descriptions of at most " + caps.max_card_description + " characters (" + clen(c.description) + " given)", "truncate");
      ["title", "description"].forEach(function (f) { if (caps.card_required_fields.indexOf(f) >= 0 && !c[f]) add(p + "." + f, name + " requires a card " + f); });
      var m = isObj(c.media) ? c.media : null, ci2 = m && isObj(m.contentInfo) ? m.contentInfo : null;
      if (caps.card_required_fields.indexOf("media") >= 0 && !(ci2 && ci2.fileUrl)) add(p + ".media", name + " requires media on every card");
      if (m && m.height && m.height !== "MEDIUM" && !caps.media_height) add(p + ".media.height", name + " has no media height setting (only its default)", "default_layout");
      if (ci2) {
        var mime = (ci2.mimeType || "").toLowerCase();
        if (mime && caps.card_media_types && caps.card_media_types.indexOf(mime) < 0) add(p + ".media.contentInfo.mimeType", name + " cannot show " + ci2.mimeType + " in a card");
        if (caps.requires_media_metadata) {
          if (!ci2.mimeType) add(p + ".media.contentInfo.mimeType", name + " needs the media MIME type (e.g. image/png)");
          if (!ci2.fileSizeBytes) add(p + ".media.contentInfo.fileSizeBytes", name + " needs the media file size in bytes");
        }
        if (ci2.thumbnailUrl && !caps.thumbnails) add(p + ".media.contentInfo.thumbnailUrl", name + " has no thumbnail field on cards", "drop_extras");
      }
      var ns = (c.suggestions || []).length;
      if (ns > caps.max_suggestions_per_card) add(p + ".suggestions", name + " accepts at most " + caps.max_suggestions_per_card + " suggestions per card (" + ns + " given)", "trim_suggestions");
    });
    var limit = caps.max_suggestions_per_message[kind], nm = (doc.suggestions || []).length;
    if (limit != null && nm > limit) {
      if (limit === 0) {
        var k2 = [];
        if (kind === "card") k2.push("move_suggestions_to_card");
        if (kind === "text" && caps.kinds.indexOf("card") >= 0) k2.push("text_as_card");
        k2.push("drop_message_suggestions");
        add.apply(null, ["suggestions", name + " cannot carry message-level suggestions on a " + kind + " message"].concat(k2));
      } else {
        add("suggestions", name + " accepts at most " + limit + " message-level suggestions on a " + kind + " message (" + nm + " given)", "trim_suggestions", "drop_message_suggestions");
      }
    }
    suggestionLists(doc).forEach(function (pl) {
      pl[1].forEach(function (s, i) {
        var sp = pl[0] + "." + i, t = suggestionType(s);
        if (!t) return;
        if (caps.suggestion_types.indexOf(t) < 0) { add(sp, name + " cannot show a '" + t + "' suggestion", "drop_suggestions"); return; }
        if (t === "view_location" && !isObj(s.action.viewLocationAction.latLong) && !caps.location_query) {
          add(sp, name + " needs latitude/longitude for a location (a search query is not supported)", "drop_suggestions"); return;
        }
        var leaf = s.reply ? "reply" : "action", inner = suggestionInner(s);
        if (caps.max_suggestion_text && clen(inner.text) > caps.max_suggestion_text) add(sp + "." + leaf + ".text", name + " accepts suggestion labels of at most " + caps.max_suggestion_text + " characters (" + clen(inner.text) + " given)", "truncate");
        if (caps.max_postback && clen(inner.postbackData) > caps.max_postback) add(sp + "." + leaf + ".postbackData", name + " accepts postback data of at most " + caps.max_postback + " characters (" + clen(inner.postbackData) + " given)", "truncate");
        var a = s.action;
        if (!a) return;
        if (a.fallbackUrl) add(sp + ".action.fallbackUrl", name + " has no fallback URL field for actions", "drop_extras");
        var ou = a.openUrlAction;
        if (isObj(ou) && !caps.open_url_options && (ou.application || ou.webviewViewMode)) add(sp + ".action.openUrlAction", name + " cannot choose browser/webview or the view mode (the link opens the phone's default way)", "drop_extras");
        var cal = a.createCalendarEventAction;
        if (isObj(cal) && cal.description && !caps.calendar_description) add(sp + ".action.createCalendarEventAction.description", name + " has no field for a calendar event description", "drop_extras");
      });
    });
    var fb = isObj(doc.fallback) ? doc.fallback : null;
    if (fb) {
      var fk = caps.fallback_kinds;
      if (isObj(fb.sms) && fk.indexOf("sms") < 0) add("fallback.sms", name + " has no SMS fallback in its RCS request", "drop_fallback");
      if (isObj(fb.mms) && fk.indexOf("mms") < 0) {
        if (fk.indexOf("sms") >= 0 && !isObj(fb.sms)) add("fallback.mms", name + " has no MMS fallback in its RCS request", "mms_as_sms", "drop_fallback");
        else add("fallback.mms", name + " has no MMS fallback in its RCS request", "drop_fallback");
      }
      if (isObj(fb.sms) && fk.indexOf("sms") >= 0 && caps.max_fallback_text && clen(fb.sms.text) > caps.max_fallback_text)
        add("fallback.sms.text", name + " accepts fallback SMS texts of at most " + caps.max_fallback_text + " characters (" + clen(fb.sms.text) + " given)", "truncate");
      if (isObj(fb.mms) && fk.indexOf("mms") >= 0) {
        if (caps.max_fallback_text && clen(fb.mms.text) > caps.max_fallback_text) add("fallback.mms.text", name + " accepts fallback MMS texts of at most " + caps.max_fallback_text + " characters (" + clen(fb.mms.text) + " given)", "truncate");
        if (caps.max_mms_subject && clen(fb.mms.subject) > caps.max_mms_subject) add("fallback.mms.subject", name + " accepts MMS subjects of at most " + caps.max_mms_subject + " characters (" + clen(fb.mms.subject) + " given)", "truncate");
      }
    }
    return out;
  }

  function describePath(path) {
    if (!path) return "Message";
    var parts = path.split("."), words = [];
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i], nx = parts[i + 1];
      if (p === "cardContents" && /^\d+$/.test(nx || "")) { words.push("Card " + (parseInt(nx, 10) + 1)); i++; continue; }
      if (p === "suggestions" && /^\d+$/.test(nx || "")) { words.push("Suggestion " + (parseInt(nx, 10) + 1)); i++; continue; }
      if (p === "richCard" || p === "carouselCard" || p === "cardContent") continue;
      if (p === "standaloneCard") { words.push("Card"); continue; }
      words.push(p);
    }
    return words.join(" › ") || "Message";
  }

  // ------------------------------------------------------------------ preview rendering
  function fillPlaceholders(text) {
    return esc(text).replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g, '<span class="rcs-ph">$1</span>');
  }
  var HEIGHTS = { SHORT: 112, MEDIUM: 168, TALL: 264 };

  function mediaHtml(ci, height, extraClass) {
    ci = isObj(ci) ? ci : {};
    var url = ci.fileUrl || "", mime = ci.mimeType || guessMime(url);
    var style = height ? ' style="height:' + height + 'px"' : "";
    var cls = "rcs-pv-media " + (extraClass || "");
    var thumb = ci.thumbnailUrl;
    if (url && /^https?:\/\//i.test(url) && (mime.indexOf("image/") === 0 || (!mime && !thumb))) {
      return '<div class="' + cls + '"' + style + '><img src="' + esc(url) + '" alt="" loading="lazy" onerror="this.parentNode.classList.add(\'rcs-pv-broken\');this.remove()"></div>';
    }
    if (thumb && /^https?:\/\//i.test(thumb)) {
      return '<div class="' + cls + ' rcs-pv-video"' + style + '><img src="' + esc(thumb) + '" alt="" loading="lazy"><span class="rcs-pv-play" aria-hidden="true">▶</span></div>';
    }
    var label = mime.indexOf("video/") === 0 ? "▶ Video" : (url ? "Media" : "No media");
    return '<div class="' + cls + ' rcs-pv-placeholder"' + style + '><span>' + esc(label) + "</span></div>";
  }
  var ICON_PATHS = {
    open_url: "M14 3h7v7h-2V6.4l-9.3 9.3-1.4-1.4L17.6 5H14V3zM5 5h6v2H5v12h12v-6h2v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z",
    dial: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25c1.1.37 2.3.57 3.6.57a1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
    view_location: "M12 2a7 7 0 0 0-7 7c0 5.25 7 13 7 13s7-7.75 7-13a7 7 0 0 0-7-7zm0 9.5a2.5 2.5 0 1 1 0-5 2.5 2.5 0 0 1 0 5z",
    share_location: "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zm8.94 3A9 9 0 0 0 13 3.06V1h-2v2.06A9 9 0 0 0 3.06 11H1v2h2.06A9 9 0 0 0 11 20.94V23h2v-2.06A9 9 0 0 0 20.94 13H23v-2h-2.06zM12 19a7 7 0 1 1 0-14 7 7 0 0 1 0 14z",
    file: "M6 2h8l6 6v14H6V2zm7 1.5V9h5.5L13 3.5z",
    create_calendar_event: "M7 2v2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2h-2V2h-2v2H9V2H7zM5 9h14v11H5V9z"
  };
  function icon(type) {
    var d = ICON_PATHS[type];
    return d ? '<svg class="rcs-icon-svg" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false"><path fill="currentColor" d="' + d + '"/></svg>' : "";
  }
  function chipsHtml(list, cls) {
    if (!Array.isArray(list) || !list.length) return "";
    return '<div class="' + cls + '">' + list.map(function (s) {
      var t = suggestionType(s), inner = suggestionInner(s);
      return '<span class="rcs-pv-chip' + (t === "reply" ? "" : " rcs-pv-action") + '" title="' + esc(SUGGESTION_LABELS[t] || "") + '">' + icon(t) + '<span class="rcs-pv-chip-text">' + fillPlaceholders(inner.text || "…") + "</span></span>";
    }).join("") + "</div>";
  }
  function cardHtml(c, opts) {
    c = isObj(c) ? c : {};
    var m = isObj(c.media) ? c.media : null;
    var h = m ? HEIGHTS[m.height] || HEIGHTS.MEDIUM : 0;
    if (opts.small && h === HEIGHTS.TALL) h = HEIGHTS.MEDIUM;
    var body = "";
    if (c.title) body += '<div class="rcs-pv-title">' + fillPlaceholders(c.title) + "</div>";
    if (c.description) body += '<div class="rcs-pv-desc">' + fillPlaceholders(c.description) + "</div>";
    var chips = (c.suggestions || []).map(function (s) {
      var t = suggestionType(s);
      return '<div class="rcs-pv-card-chip">' + icon(t) + fillPlaceholders(suggestionInner(s).text || "…") + "</div>";
    }).join("");
    var cls = "rcs-pv-card" + (opts.horizontal ? " rcs-pv-horizontal rcs-pv-align-" + (opts.alignment || "LEFT").toLowerCase() : "") + (opts.active ? " rcs-pv-active" : "");
    var media = m ? mediaHtml(m.contentInfo, opts.horizontal ? 0 : h) : "";
    var content = '<div class="rcs-pv-card-body">' + body + "</div>";
    if (opts.horizontal) return '<div class="' + cls + '"><div class="rcs-pv-hrow">' + media + content + "</div>" + (chips ? '<div class="rcs-pv-card-chips">' + chips + "</div>" : "") + "</div>";
    return '<div class="' + cls + '">' + media + content + (chips ? '<div class="rcs-pv-card-chips">' + chips + "</div>" : "") + "</div>";
  }
  /** The preview as parts: {head, cards (carousel only), chips}; previewHtml joins them. */
  function previewParts(doc, activeCard) {
    var kind = kindOf(doc), head = "", cards = null;
    if (kind === "text") {
      head = '<div class="rcs-pv-bubble">' + (doc.text ? fillPlaceholders(doc.text) : '<span class="rcs-pv-empty">Type a message…</span>') + "</div>";
    } else if (kind === "file") {
      var ci = isObj(doc.contentInfo) ? doc.contentInfo : {};
      var mime = ci.mimeType || guessMime(ci.fileUrl);
      if (mime.indexOf("image/") === 0 || mime.indexOf("video/") === 0 || !ci.fileUrl) head = '<div class="rcs-pv-file">' + mediaHtml(ci, 168) + "</div>";
      else head = '<div class="rcs-pv-bubble rcs-pv-doc"><span class="rcs-pv-doc-icon">' + icon("file").replace(/width="14" height="14"/, 'width="28" height="28"') + '</span><span>' + esc(ci.fileName || (ci.fileUrl || "").split("/").pop() || "File") + '<small>' + esc(mime) + (ci.fileSizeBytes ? " · " + fmtBytes(ci.fileSizeBytes) : "") + "</small></span></div>";
    } else if (kind === "card") {
      var sc = doc.richCard.standaloneCard || {};
      head = cardHtml(sc.cardContent, { horizontal: sc.cardOrientation === "HORIZONTAL", alignment: sc.thumbnailImageAlignment });
    } else {
      var cc = doc.richCard.carouselCard || {}, width = cc.cardWidth === "SMALL" ? "small" : "medium";
      head = '<div class="rcs-pv-carousel rcs-pv-' + width + '" tabindex="0" aria-label="Carousel, scroll sideways">';
      cards = (cc.cardContents || []).map(function (c, i) { return cardHtml(c, { small: width === "small", active: i === activeCard }); });
    }
    return { head: head, cards: cards, chips: chipsHtml(doc.suggestions, "rcs-pv-chips") };
  }
  function previewHtml(doc, activeCard) {
    var parts = previewParts(doc, activeCard);
    return parts.head + (parts.cards ? parts.cards.join("") + "</div>" : "") + parts.chips;
  }

  // ------------------------------------------------------------------ the composer
  var uid = 0;

  function Composer(root) {
    this.root = root;
    this.cfg = JSON.parse(document.getElementById(root.dataset.config).textContent);
    this.textarea = document.getElementById(root.dataset.field);
    this.form = this.textarea.form;
    this.id = "rcs" + (++uid);
    this.doc = {};
    this.jsonError = "";
    this.serverProblems = (this.cfg.problems || []).slice();
    this.serverCheck = null;
    this.version = 0;
    this.activeCard = -1;
    this.lastFocus = null;
    this.timings = { update: [], render: [] };
    this.readOnly = this.textarea.disabled || this.textarea.readOnly;
    this.empty = false; // send mode: no override (the template's content is sent)
    this.init();
  }

  Composer.prototype.init = function () {
    var self = this, raw = this.textarea.value.trim();
    if (raw === "null" || raw === "{}") { raw = ""; this.textarea.value = ""; }
    if (!raw) {
      if (this.cfg.mode === "send") this.empty = true;
      this.doc = this.cfg.mode === "send" ? {} : { text: "" };
    } else {
      try {
        var parsed = JSON.parse(raw);
        this.doc = isObj(parsed) ? parsed : {};
        if (!isObj(parsed)) this.jsonError = "The document must be a JSON object.";
      } catch (e) {
        this.jsonError = jsonErrorText(e, raw);
      }
    }
    this.buildShell();
    this.bindAgent();
    this.tab = this.jsonError ? "json" : "visual";
    this.showTab(this.tab, false);
    this.renderEditor();
    this.update(false);
    if (!this.textarea.value.trim() && !this.empty) this.textarea.value = JSON.stringify(this.doc, null, 2);
    root_registry.push(this);
    this.root.classList.add("rcs-ready");
  };

  function jsonErrorText(e, raw) {
    var msg = String(e && e.message || e);
    var m = /position (\d+)/.exec(msg);
    if (m) {
      var pos = parseInt(m[1], 10), before = raw.slice(0, pos), line = before.split("\n").length;
      var col = pos - before.lastIndexOf("\n");
      return "Not valid JSON: " + msg.replace(/^JSON\.parse: /, "") + " (line " + line + ", column " + col + ")";
    }
    return "Not valid JSON: " + msg;
  }

  Composer.prototype.buildShell = function () {
    var id = this.id, self = this;
    var wrap = document.createElement("div");
    wrap.className = "rcs-shell";
    var kinds = [["text", "Text"], ["file", "File / media"], ["card", "Rich card"], ["carousel", "Carousel"]];
    wrap.innerHTML =
      '<div class="rcs-toolbar">' +
      '<div class="rcs-tabs" role="tablist" aria-label="Editor">' +
      '<button type="button" role="tab" id="' + id + '-tab-visual" aria-controls="' + id + '-panel-visual" data-tab="visual">Visual</button>' +
      '<button type="button" role="tab" id="' + id + '-tab-json" aria-controls="' + id + '-panel-json" data-tab="json">JSON</button>' +
      "</div>" +
      '<fieldset class="rcs-kinds"><legend>Message type</legend>' +
      kinds.map(function (k) {
        return '<label class="rcs-kind"><input type="radio" name="' + id + '-kind" value="' + k[0] + '" data-action="kind"> ' + k[1] + "</label>";
      }).join("") + "</fieldset>" +
      '<label class="rcs-insert">Insert field <select data-action="insert-placeholder" aria-label="Insert a contact field at the cursor"><option value="">{{ … }}</option>' +
      this.cfg.placeholders.map(function (p) { return '<option value="' + esc(p) + '">' + esc(p) + "</option>"; }).join("") + "</select></label>" +
      "</div>" +
      '<div class="rcs-summary" id="' + id + '-summary" aria-live="polite" role="status"></div>' +
      '<div class="rcs-empty-state" hidden></div>' +
      '<div class="rcs-layout">' +
      '<div class="rcs-main">' +
      '<div class="rcs-panel" role="tabpanel" id="' + id + '-panel-visual" aria-labelledby="' + id + '-tab-visual"><div class="rcs-editor"></div></div>' +
      '<div class="rcs-panel" role="tabpanel" id="' + id + '-panel-json" aria-labelledby="' + id + '-tab-json">' +
      '<p class="rcs-json-help">The canonical document (docs/message-format.md). Paste RBM material here: an <code>AgentContentMessage</code>, or an <code>AgentMessage</code> whose <code>contentMessage</code> is taken.</p>' +
      '<div class="rcs-json-slot"></div><div class="rcs-json-error" role="alert"></div></div>' +
      "</div>" +
      '<aside class="rcs-side" aria-label="Preview and checks">' +
      '<div class="rcs-phone"><div class="rcs-phone-header"><span class="rcs-avatar" aria-hidden="true"></span><span class="rcs-agent-name"></span><span class="rcs-badge">RCS</span></div>' +
      '<div class="rcs-phone-body" aria-label="Live preview"></div></div>' +
      '<section class="rcs-sms" aria-label="Fallback preview"></section>' +
      '<section class="rcs-warnings" aria-live="polite"></section>' +
      "</aside></div>";
    this.textarea.parentNode.insertBefore(wrap, this.textarea);
    wrap.querySelector(".rcs-json-slot").appendChild(this.textarea);
    this.textarea.setAttribute("aria-describedby", id + "-json-error");
    wrap.querySelector(".rcs-json-error").id = id + "-json-error";
    this.shell = wrap;
    this.editor = wrap.querySelector(".rcs-editor");
    this.phone = wrap.querySelector(".rcs-phone-body");
    this.smsBox = wrap.querySelector(".rcs-sms");
    this.warnBox = wrap.querySelector(".rcs-warnings");
    this.summary = wrap.querySelector(".rcs-summary");
    this.jsonErrorBox = wrap.querySelector(".rcs-json-error");
    this.emptyBox = wrap.querySelector(".rcs-empty-state");

    wrap.querySelectorAll("[data-tab]").forEach(function (b) {
      b.addEventListener("click", function () { self.showTab(b.dataset.tab, true); });
      b.addEventListener("keydown", function (e) {
        if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
          e.preventDefault();
          var other = wrap.querySelector('[data-tab="' + (b.dataset.tab === "visual" ? "json" : "visual") + '"]');
          other.focus(); self.showTab(other.dataset.tab, true);
        }
      });
    });
    wrap.querySelectorAll('[data-action="kind"]').forEach(function (r) {
      r.addEventListener("change", function () { if (r.checked) self.switchKind(r.value); });
    });
    var ins = wrap.querySelector('[data-action="insert-placeholder"]');
    ins.addEventListener("change", function () { if (ins.value) { self.insertPlaceholder(ins.value); ins.value = ""; } });
    this.editor.addEventListener("input", function (e) { self.onInput(e); });
    this.editor.addEventListener("change", function (e) { self.onChange(e); });
    this.editor.addEventListener("click", function (e) { self.onClick(e); });
    this.editor.addEventListener("focusin", function (e) {
      var t = e.target;
      if (t.dataset && t.dataset.personalizable) self.lastFocus = t;
      var card = t.closest && t.closest(".rcs-card-editor");
      var idx = card ? parseInt(card.dataset.index, 10) : -1;
      if (idx !== self.activeCard) { self.activeCard = idx; self.renderPreview(); self.scrollPreviewTo(idx); }
    });
    this.bindDrag();
    this.textarea.addEventListener("input", function () { self.onJsonInput(); });
    this.summary.addEventListener("click", function (e) {
      var a = e.target.closest("[data-goto]");
      if (a) { e.preventDefault(); self.focusPath(a.dataset.goto); }
    });
    this.emptyBox.addEventListener("click", function (e) { self.onEmptyClick(e); });
    this.warnBox.addEventListener("change", function (e) {
      if (e.target.matches("[data-degradation]")) self.toggleDegradation(e.target.dataset.degradation, e.target.checked);
    });
    if (this.form) {
      this.form.addEventListener("submit", function () {
        if (self.tab === "visual" && !self.empty) self.textarea.value = JSON.stringify(self.doc, null, 2);
      });
    }
  };

  Composer.prototype.showTab = function (tab, focus) {
    if (tab === "visual" && this.jsonError) {
      this.jsonErrorBox.textContent = this.jsonError + " Fix it before switching to the visual editor.";
      tab = "json";
    }
    if (tab === "visual" && this.tab === "json") this.renderEditor();
    this.tab = tab;
    var id = this.id;
    ["visual", "json"].forEach(function (t) {
      var b = document.getElementById(id + "-tab-" + t), p = document.getElementById(id + "-panel-" + t);
      var on = t === tab;
      b.setAttribute("aria-selected", on ? "true" : "false");
      b.tabIndex = on ? 0 : -1;
      p.hidden = !on;
    });
    this.shell.querySelector(".rcs-kinds").disabled = tab !== "visual" || this.readOnly;
    if (tab === "json" && !this.empty && !this.jsonError) this.textarea.value = JSON.stringify(this.doc, null, 2);
    if (focus && tab === "json") this.textarea.focus();
  };

  // ---------------------------------------------------------------- agent / provider
  Composer.prototype.agentSelect = function () {
    return this.form ? this.form.querySelector('[name="' + this.cfg.agentField + '"]') : null;
  };
  Composer.prototype.bindAgent = function () {
    var self = this, sel = this.agentSelect();
    if (!sel) return;
    var handler = function () { self.serverCheck = null; self.update(false); self.scheduleServerCheck(0); };
    sel.addEventListener("change", handler);
    if (window.django && window.django.jQuery) window.django.jQuery(sel).on("change", handler);
    var tpl = this.form.querySelector('[name="template"]');
    if (tpl && this.cfg.mode === "send") {
      var th = function () { if (self.empty) { self.serverCheck = null; self.update(false); self.scheduleServerCheck(0); } };
      tpl.addEventListener("change", th);
      if (window.django && window.django.jQuery) window.django.jQuery(tpl).on("change", th);
    }
  };
  Composer.prototype.agent = function () {
    var sel = this.agentSelect();
    var id = sel ? String(sel.value || "") : "";
    if (!id) return null;
    var a = this.cfg.agents[id];
    return a ? { id: id, name: a.name, provider: a.provider } : null;
  };
  Composer.prototype.provider = function () {
    var a = this.agent();
    return a ? this.cfg.providers[a.provider] || null : null;
  };

  // ---------------------------------------------------------------- editing
  Composer.prototype.onInput = function (e) {
    var t = e.target;
    if (!t.dataset || t.dataset.path == null || t.tagName === "SELECT") return;
    this.applyField(t);
    this.update(false);
  };
  Composer.prototype.onChange = function (e) {
    var t = e.target, a = t.dataset.action;
    if (a === "suggestion-type") { this.changeSuggestionType(t.dataset.path, t.value); return; }
    if (a === "location-mode") { this.changeLocationMode(t.dataset.path, t.value); return; }
    if (a === "upload") { this.upload(t); return; }
    if (t.tagName === "SELECT" && t.dataset.path != null) {
      this.applyField(t);
      if (t.dataset.rebuild) this.renderEditor();
      this.update(true);
      return;
    }
    if (t.dataset.path != null && (t.type === "datetime-local" || t.type === "number")) { this.applyField(t); this.update(false); }
  };

  Composer.prototype.applyField = function (t) {
    var path = t.dataset.path, type = t.dataset.type || "str", v = t.value;
    if (type === "num") {
      if (v === "" || isNaN(parseFloat(v))) deletePath(this.doc, path); else setPath(this.doc, path, parseFloat(v));
    } else if (type === "int") {
      if (v === "" || isNaN(parseInt(v, 10))) deletePath(this.doc, path); else setPath(this.doc, path, parseInt(v, 10));
    } else if (type === "datetime") {
      setPath(this.doc, path, fromLocalInput(v));
    } else if (v === "" && t.dataset.optional) {
      deletePath(this.doc, path);
    } else {
      setPath(this.doc, path, v);
    }
    if (path.indexOf("openUrlAction.application") >= 0 && v !== "WEBVIEW") deletePath(this.doc, parentPath(path) + ".webviewViewMode");
    if (path === "richCard.standaloneCard.cardOrientation" && v !== "HORIZONTAL") deletePath(this.doc, "richCard.standaloneCard.thumbnailImageAlignment");
    this.normalize();
    if (this.serverProblems.length) this.serverProblems = this.serverProblems.filter(function (p) { return p.path !== path; });
  };

  /** Drop optional containers left empty by editing (keeps the document canonical). */
  Composer.prototype.normalize = function () {
    var d = this.doc;
    cardsOf(d).forEach(function (pc) {
      var c = pc[1];
      if (isObj(c.media)) {
        var ci = c.media.contentInfo;
        if (isObj(ci) && !ci.fileUrl && Object.keys(ci).every(function (k) { return k === "fileUrl" || !ci[k]; }) && !c.media.height) {
          delete c.media;
        } else if (isObj(ci) && !("fileUrl" in ci)) ci.fileUrl = "";
        else if (!isObj(ci)) c.media.contentInfo = { fileUrl: "" };
      }
    });
    if (isObj(d.fallback)) {
      var fb = d.fallback;
      if (isObj(fb.sms) && !fb.sms.text && !fb.sms.sender) delete fb.sms;
      else if (isObj(fb.sms) && !("text" in fb.sms)) fb.sms.text = "";
      if (isObj(fb.mms) && !fb.mms.text && !fb.mms.mediaUrl && !fb.mms.subject) delete fb.mms;
      else if (isObj(fb.mms) && !("text" in fb.mms)) fb.mms.text = "";
      if (!isObj(fb.sms) && !isObj(fb.mms)) delete d.fallback;
    }
    if (Array.isArray(d.suggestions) && !d.suggestions.length && this._dropEmptySuggestions) delete d.suggestions;
  };

  Composer.prototype.switchKind = function (kind) {
    var d = this.doc, old = kindOf(d);
    if (kind === old) return;
    var first = null, cards = cardsOf(d);
    if (cards.length) first = clone(cards[0][1]);
    var text = d.text || (first && first.description) || "";
    var media = isObj(d.contentInfo) ? { contentInfo: clone(d.contentInfo) } : null;
    delete d.text; delete d.contentInfo; delete d.richCard;
    if (kind === "text") d.text = text;
    else if (kind === "file") d.contentInfo = first && isObj(first.media) && isObj(first.media.contentInfo) ? first.media.contentInfo : (media ? media.contentInfo : { fileUrl: "" });
    else {
      var content = first || (text ? { description: text } : {});
      if (!first && media) content.media = media;
      if (kind === "card") d.richCard = { standaloneCard: { cardOrientation: "VERTICAL", cardContent: content } };
      else {
        var list = cards.length > 1 ? cards.map(function (pc) { return clone(pc[1]); }) : [content, {}];
        d.richCard = { carouselCard: { cardWidth: "MEDIUM", cardContents: list } };
      }
    }
    this.reorderKeys();
    this.renderEditor();
    this.update(true);
    this.announce("Message type: " + kind);
  };

  /** Keep a stable, readable key order: content first, then suggestions, then fallback. */
  Composer.prototype.reorderKeys = function () {
    var d = this.doc, order = ["text", "contentInfo", "richCard", "suggestions", "fallback"], out = {};
    order.forEach(function (k) { if (k in d) out[k] = d[k]; });
    Object.keys(d).forEach(function (k) { if (!(k in out)) out[k] = d[k]; });
    this.doc = out;
  };

  Composer.prototype.onClick = function (e) {
    var b = e.target.closest("button[data-action]");
    if (!b || !this.editor.contains(b)) return;
    e.preventDefault();
    var a = b.dataset.action, path = b.dataset.path, d = this.doc, list, i;
    var focusAfter = null;
    switch (a) {
      case "add-suggestion":
        list = getPath(d, path);
        if (!Array.isArray(list)) { list = []; setPath(d, path, list); }
        list.push(newSuggestion("reply", "", ""));
        if (path === "suggestions") this.reorderKeys();
        focusAfter = path + "." + (list.length - 1) + ".reply.text";
        break;
      case "remove-suggestion":
      case "remove-card":
        list = getPath(d, parentPath(path)); i = key(splitPath(path).pop());
        list.splice(i, 1);
        if (a === "remove-suggestion" && !list.length) deletePath(d, parentPath(path));
        this.announce(a === "remove-card" ? "Card " + (i + 1) + " removed" : "Suggestion removed");
        focusAfter = a === "remove-card" ? "@add-card" : null;
        break;
      case "move-up": case "move-down":
        list = getPath(d, parentPath(path)); i = key(splitPath(path).pop());
        var j = a === "move-up" ? i - 1 : i + 1;
        if (j < 0 || j >= list.length) return;
        var tmp = list[i]; list[i] = list[j]; list[j] = tmp;
        focusAfter = "@" + a + ":" + parentPath(path) + "." + j;
        this.announce("Moved to position " + (j + 1));
        if (path.indexOf("cardContents") >= 0) this.activeCard = j;
        break;
      case "duplicate-card":
        list = getPath(d, parentPath(path)); i = key(splitPath(path).pop());
        list.splice(i + 1, 0, clone(list[i]));
        focusAfter = parentPath(path) + "." + (i + 1) + ".title";
        this.announce("Card " + (i + 1) + " duplicated");
        break;
      case "add-card":
        list = d.richCard.carouselCard.cardContents;
        list.push({});
        focusAfter = "richCard.carouselCard.cardContents." + (list.length - 1) + ".title";
        this.announce("Card " + list.length + " added");
        break;
      case "toggle-sms": case "toggle-mms":
        var which = a === "toggle-sms" ? "sms" : "mms";
        if (isObj(d.fallback) && isObj(d.fallback[which])) { delete d.fallback[which]; this.normalize(); }
        else { if (!isObj(d.fallback)) d.fallback = {}; d.fallback[which] = { text: "" }; focusAfter = "fallback." + which + ".text"; }
        this.reorderKeys();
        break;
      case "check-url":
        this.checkUrl(b); return;
      case "upload-click":
        b.parentNode.querySelector('input[type="file"]').click(); return;
      default: return;
    }
    this.renderEditor();
    this.update(true);
    if (focusAfter) this.focusPath(focusAfter);
  };

  Composer.prototype.changeSuggestionType = function (path, type) {
    var s = getPath(this.doc, path), inner = suggestionInner(s);
    var list = getPath(this.doc, parentPath(path)), i = key(splitPath(path).pop());
    list[i] = newSuggestion(type, inner.text || "", inner.postbackData || "");
    this.renderEditor();
    this.update(true);
    this.focusPath(path + (type === "reply" ? ".reply.text" : ".action.text"));
  };
  Composer.prototype.changeLocationMode = function (path, mode) {
    var v = getPath(this.doc, path);
    if (!isObj(v)) return;
    if (mode === "query") { delete v.latLong; v.query = v.query || ""; }
    else { delete v.query; v.latLong = v.latLong || {}; }
    this.renderEditor();
    this.update(true);
  };

  Composer.prototype.insertPlaceholder = function (name) {
    var t = this.lastFocus && document.body.contains(this.lastFocus) ? this.lastFocus : this.editor.querySelector("[data-personalizable]");
    if (!t) return;
    var token = "{{ " + name + " }}";
    var start = t.selectionStart != null ? t.selectionStart : t.value.length, end = t.selectionEnd != null ? t.selectionEnd : start;
    t.focus();
    t.setRangeText(token, start, end, "end");
    t.dispatchEvent(new Event("input", { bubbles: true }));
    this.announce("Inserted " + token);
  };

  // ---------------------------------------------------------------- drag and drop of cards
  Composer.prototype.bindDrag = function () {
    var self = this, from = -1;
    this.editor.addEventListener("dragstart", function (e) {
      var card = e.target.closest && e.target.closest(".rcs-card-editor[data-index]");
      if (!card || !e.target.classList.contains("rcs-drag")) { return; }
      from = parseInt(card.dataset.index, 10);
      card.classList.add("rcs-dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", String(from));
      e.dataTransfer.setDragImage(card, 20, 20);
    });
    this.editor.addEventListener("dragover", function (e) {
      var card = e.target.closest && e.target.closest(".rcs-card-editor[data-index]");
      if (from < 0 || !card) return;
      e.preventDefault();
      self.editor.querySelectorAll(".rcs-drop-target").forEach(function (x) { x.classList.remove("rcs-drop-target"); });
      card.classList.add("rcs-drop-target");
    });
    this.editor.addEventListener("drop", function (e) {
      var card = e.target.closest && e.target.closest(".rcs-card-editor[data-index]");
      if (from < 0 || !card) return;
      e.preventDefault();
      var to = parseInt(card.dataset.index, 10);
      self.moveCard(from, to);
      from = -1;
    });
    this.editor.addEventListener("dragend", function () {
      from = -1;
      self.editor.querySelectorAll(".rcs-dragging,.rcs-drop-target").forEach(function (x) { x.classList.remove("rcs-dragging", "rcs-drop-target"); });
    });
  };
  Composer.prototype.moveCard = function (from, to) {
    var list = this.doc.richCard && this.doc.richCard.carouselCard && this.doc.richCard.carouselCard.cardContents;
    if (!list || from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) return;
    var item = list.splice(from, 1)[0];
    list.splice(to, 0, item);
    this.activeCard = to;
    this.renderEditor();
    this.update(true);
    this.announce("Card moved to position " + (to + 1));
  };

  // ---------------------------------------------------------------- media
  function csrfToken(form) {
    var input = form && form.querySelector('[name="csrfmiddlewaretoken"]');
    if (input) return input.value;
    var m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    return m ? decodeURIComponent(m[1]) : "";
  }
  Composer.prototype.setMediaInfo = function (ciPath, info) {
    if (info.url) setPath(this.doc, ciPath + ".fileUrl", info.url);
    if (info.mimeType) setPath(this.doc, ciPath + ".mimeType", info.mimeType);
    if (info.fileSizeBytes != null) setPath(this.doc, ciPath + ".fileSizeBytes", info.fileSizeBytes);
    if (info.fileName && ciPath === "contentInfo") setPath(this.doc, ciPath + ".fileName", info.fileName);
  };
  Composer.prototype.upload = function (input) {
    var self = this, file = input.files && input.files[0];
    if (!file || !this.cfg.urls.upload) return;
    var status = input.closest(".rcs-media-tools").querySelector(".rcs-media-status");
    var target = input.dataset.target, purpose = input.dataset.purpose;
    var body = new FormData();
    body.append("file", file);
    body.append("purpose", purpose);
    status.textContent = "Uploading " + file.name + "…";
    fetch(this.cfg.urls.upload, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken(this.form) } })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) {
        if (!res[0]) { status.textContent = "Upload refused: " + (res[1].error || "error"); status.className = "rcs-media-status rcs-bad"; return; }
        var j = res[1];
        if (target.slice(-".fileUrl".length) === ".fileUrl" || target === "fileUrl") self.setMediaInfo(parentPath(target), j);
        else setPath(self.doc, target, j.url);
        self.normalize();
        self.renderEditor();
        self.update(true);
        var st = self.editor.querySelector('.rcs-media-status[data-for="' + target + '"]');
        if (st) { st.textContent = "Uploaded: " + j.mimeType + " · " + fmtBytes(j.fileSizeBytes); st.className = "rcs-media-status rcs-good"; }
      })
      .catch(function (err) { status.textContent = "Upload failed: " + err; status.className = "rcs-media-status rcs-bad"; });
    input.value = "";
  };
  Composer.prototype.checkUrl = function (button) {
    var self = this, target = button.dataset.path, url = getPath(this.doc, target) || "";
    var status = button.closest(".rcs-media-tools").querySelector(".rcs-media-status");
    if (!url) { status.textContent = "Enter a URL first."; return; }
    status.textContent = "Checking…"; status.className = "rcs-media-status";
    fetch(this.cfg.urls.urlCheck, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(this.form) },
      body: JSON.stringify({ url: url, purpose: button.dataset.purpose })
    }).then(function (r) { return r.json(); }).then(function (j) {
      if (j.error) { status.textContent = "Not usable: " + j.error; status.className = "rcs-media-status rcs-bad"; return; }
      var ciPath = parentPath(target);
      if (target.slice(-".fileUrl".length) === ".fileUrl" || target === "fileUrl") {
        if (j.mimeType) setPath(self.doc, ciPath + ".mimeType", j.mimeType);
        if (j.fileSizeBytes != null) setPath(self.doc, ciPath + ".fileSizeBytes", j.fileSizeBytes);
      }
      self.update(true);
      status.textContent = (j.ok ? "OK: " : "Problem: ") + (j.mimeType || "unknown type") + (j.fileSizeBytes != null ? " · " + fmtBytes(j.fileSizeBytes) : "") + (j.problems && j.problems.length ? " — " + j.problems.join("; ") : "");
      status.className = "rcs-media-status " + (j.ok ? "rcs-good" : "rcs-bad");
    }).catch(function (err) { status.textContent = "Check failed: " + err; status.className = "rcs-media-status rcs-bad"; });
  };

  // ---------------------------------------------------------------- JSON tab
  Composer.prototype.onJsonInput = function () {
    var raw = this.textarea.value;
    if (this.cfg.mode === "send" && !raw.trim()) { this.jsonError = ""; this.jsonErrorBox.textContent = ""; this.doc = {}; this.empty = true; this.update(false); return; }
    try {
      var parsed = JSON.parse(raw);
      if (!isObj(parsed)) throw new Error("the document must be a JSON object");
      var note = "";
      if (isObj(parsed.contentMessage) && Object.keys(parsed).every(function (k) { return k === "contentMessage" || k === "messageId" || k === "expireTime" || k === "ttl" || k === "messageTrafficType"; })) {
        parsed = parsed.contentMessage;
        note = "Took the contentMessage of the pasted RBM AgentMessage.";
      }
      this.doc = parsed;
      this.empty = false;
      this.jsonError = "";
      this.jsonErrorBox.textContent = note;
      this.jsonErrorBox.classList.toggle("rcs-note", !!note);
      if (note) this.textarea.value = JSON.stringify(parsed, null, 2);
      this.serverProblems = [];
      this.update(false, true);
    } catch (e) {
      this.jsonError = e instanceof SyntaxError ? jsonErrorText(e, raw) : "Not accepted: " + e.message;
      this.jsonErrorBox.textContent = this.jsonError;
      this.jsonErrorBox.classList.remove("rcs-note");
    }
  };

  // ---------------------------------------------------------------- send mode: override or template
  Composer.prototype.onEmptyClick = function (e) {
    var b = e.target.closest("button[data-action]");
    if (!b) return;
    e.preventDefault();
    var self = this;
    if (b.dataset.action === "start-override") {
      var tpl = this.form && this.form.querySelector('[name="template"]');
      var id = tpl && tpl.value;
      var start = function (content) {
        self.doc = isObj(content) && Object.keys(content).length ? clone(content) : { text: "" };
        self.empty = false;
        self.reorderKeys();
        self.renderEditor();
        self.update(true);
        var first = self.editor.querySelector("input,textarea,select");
        if (first) first.focus();
      };
      if (id && this.cfg.urls.templateContent) {
        fetch(this.cfg.urls.templateContent.replace("{id}", id), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : {}; }).then(function (j) { start(j.content); }).catch(function () { start(null); });
      } else start(null);
    }
  };
  Composer.prototype.clearOverride = function () {
    this.doc = {};
    this.empty = true;
    this.textarea.value = "";
    this.renderEditor();
    this.update(true);
  };

  // ---------------------------------------------------------------- editor rendering
  Composer.prototype.fid = function (path) { return this.id + "-f-" + (path || "root").replace(/\./g, "-"); };

  Composer.prototype.field = function (o) {
    var id = this.fid(o.path), v = o.value != null ? o.value : getPath(this.doc, o.path);
    if (v == null) v = "";
    var attrs = ' id="' + id + '" data-path="' + esc(o.path) + '"' + (o.optional ? ' data-optional="1"' : "") +
      (o.type ? ' data-type="' + o.type + '"' : "") + (o.personalizable ? ' data-personalizable="1"' : "") +
      (o.limit ? ' data-limit="' + o.limit + '"' : "") + (o.plimit ? ' data-plimit="' + o.plimit + '"' : "") +
      (o.rebuild ? ' data-rebuild="1"' : "") + (o.required ? ' aria-required="true"' : "") +
      ' aria-describedby="' + id + "-msg " + id + '-meta"' + (this.readOnly ? " disabled" : "");
    var input;
    if (o.kind === "textarea") {
      input = "<textarea" + attrs + ' rows="' + (o.rows || 3) + '"' + (o.placeholder ? ' placeholder="' + esc(o.placeholder) + '"' : "") + ">" + esc(v) + "</textarea>";
    } else if (o.kind === "select") {
      input = "<select" + attrs + ">" + o.options.map(function (op) {
        return '<option value="' + esc(op[0]) + '"' + (String(v) === op[0] ? " selected" : "") + ">" + esc(op[1]) + "</option>";
      }).join("") + "</select>";
    } else {
      var type = o.kind || "text";
      var val = o.type === "datetime" ? toLocalInput(v) : v;
      input = '<input type="' + type + '"' + attrs + ' value="' + esc(val) + '"' + (o.placeholder ? ' placeholder="' + esc(o.placeholder) + '"' : "") +
        (o.step ? ' step="' + o.step + '"' : "") + (o.inputmode ? ' inputmode="' + o.inputmode + '"' : "") + ' autocomplete="off">';
    }
    return '<div class="rcs-field' + (o.wide ? " rcs-wide" : "") + '" data-field-path="' + esc(o.path) + '">' +
      '<label for="' + id + '">' + esc(o.label) + (o.required ? ' <span class="rcs-req" aria-hidden="true">*</span>' : "") + "</label>" + input +
      '<div class="rcs-meta" id="' + id + '-meta"><span class="rcs-help">' + (o.help || "") + '</span><span class="rcs-counter"></span></div>' +
      (o.extra || "") +
      '<div class="rcs-msg" id="' + id + '-msg"></div></div>';
  };

  Composer.prototype.mediaTools = function (urlPath, purpose) {
    if (this.readOnly) return "";
    var id = this.fid(urlPath) + "-upload";
    return '<div class="rcs-media-tools">' +
      '<button type="button" class="button rcs-small" data-action="check-url" data-path="' + esc(urlPath) + '" data-purpose="' + purpose + '">Check URL</button>' +
      '<button type="button" class="button rcs-small" data-action="upload-click">Upload…</button>' +
      '<input type="file" id="' + id + '" class="rcs-file" data-action="upload" data-target="' + esc(urlPath) + '" data-purpose="' + purpose + '" accept="' +
      (purpose === "file" ? "image/*,video/*,audio/*,application/pdf,application/ogg" : purpose === "thumbnail" ? "image/jpeg,image/png,image/gif" : "image/*,video/*") +
      '" tabindex="-1" aria-label="Upload a file">' +
      '<span class="rcs-media-status" data-for="' + esc(urlPath) + '" aria-live="polite"></span></div>';
  };

  Composer.prototype.contentInfoFields = function (p, purpose) {
    var ci = getPath(this.doc, p) || {};
    var info = [];
    if (ci.mimeType) info.push(ci.mimeType);
    if (ci.fileSizeBytes != null) info.push(fmtBytes(ci.fileSizeBytes));
    var html = this.field({ path: p + ".fileUrl", label: purpose === "file" ? "File URL" : "Media URL", kind: "url", placeholder: "https://…", limit: "media_url", required: purpose === "file", wide: true, help: info.length ? "Detected: " + esc(info.join(" · ")) : "Public http(s) URL, or upload a file.", extra: this.mediaTools(p + ".fileUrl", purpose) });
    html += '<details class="rcs-more"' + (ci.thumbnailUrl || ci.fileName ? " open" : "") + '><summary>More media options</summary><div class="rcs-grid">' +
      this.field({ path: p + ".thumbnailUrl", label: "Thumbnail URL", kind: "url", optional: true, placeholder: "https://…", limit: "media_url", wide: true, extra: this.mediaTools(p + ".thumbnailUrl", "thumbnail") }) +
      this.field({ path: p + ".mimeType", label: "Media type", optional: true, placeholder: "image/jpeg", help: "Filled by Check URL / Upload." }) +
      this.field({ path: p + ".fileSizeBytes", label: "Size (bytes)", kind: "number", type: "int", optional: true }) +
      (purpose === "file" ? this.field({ path: p + ".fileName", label: "File name", optional: true, personalizable: true }) : "") +
      "</div></details>";
    return html;
  };

  Composer.prototype.suggestionEditor = function (p, index, count) {
    var s = getPath(this.doc, p), t = suggestionType(s) || "reply", leaf = p + (t === "reply" ? ".reply" : ".action");
    var id = this.fid(p) + "-type", self = this;
    var options = Object.keys(SUGGESTION_LABELS).map(function (k) { return '<option value="' + k + '"' + (k === t ? " selected" : "") + ">" + SUGGESTION_LABELS[k] + "</option>"; }).join("");
    var html = '<div class="rcs-suggestion" data-scope-path="' + esc(p) + '">' +
      '<div class="rcs-suggestion-head"><label for="' + id + '">Suggestion ' + (index + 1) + '</label><select id="' + id + '" data-action="suggestion-type" data-path="' + esc(p) + '"' + (this.readOnly ? " disabled" : "") + ">" + options + "</select>" +
      this.itemButtons(p, index, count, "suggestion") + "</div>" +
      '<div class="rcs-msg rcs-scope-msg" id="' + this.fid(p) + '-msg"></div><div class="rcs-grid">' +
      this.field({ path: leaf + ".text", label: "Chip label", limit: "suggestion_text", plimit: "max_suggestion_text", personalizable: true, required: true }) +
      this.field({ path: leaf + ".postbackData", label: "Postback data", optional: true, limit: "postback_data", plimit: "max_postback", personalizable: true, help: "Sent back to you when tapped." });
    var a = leaf;
    if (t === "open_url") {
      var app = getPath(this.doc, a + ".openUrlAction.application") || "";
      html += this.field({ path: a + ".openUrlAction.url", label: "URL", kind: "url", limit: "url", personalizable: true, required: true, wide: true, placeholder: "https://…" }) +
        this.field({ path: a + ".openUrlAction.application", label: "Open in", kind: "select", optional: true, rebuild: true, options: [["", "Phone default"], ["BROWSER", "Browser"], ["WEBVIEW", "Webview (inside the conversation)"]] });
      if (app === "WEBVIEW") html += this.field({ path: a + ".openUrlAction.webviewViewMode", label: "View mode", kind: "select", optional: true, options: [["", "Default"], ["FULL", "Full screen"], ["HALF", "Half screen"], ["TALL", "Tall"]] });
      html += this.field({ path: a + ".fallbackUrl", label: "Fallback URL", kind: "url", optional: true, limit: "url", personalizable: true, help: "Opened by clients that cannot do the action." });
    } else if (t === "dial") {
      html += this.field({ path: a + ".dialAction.phoneNumber", label: "Phone number", kind: "tel", required: true, placeholder: "+33612345678", help: "E.164: + then 6 to 15 digits." });
    } else if (t === "view_location") {
      var v = getPath(this.doc, a + ".viewLocationAction") || {}, mode = isObj(v.latLong) ? "latlong" : "query";
      var mid = this.fid(p) + "-locmode";
      html += '<div class="rcs-field"><label for="' + mid + '">Find the place by</label><select id="' + mid + '" data-action="location-mode" data-path="' + esc(a + ".viewLocationAction") + '"' + (this.readOnly ? " disabled" : "") + '><option value="latlong"' + (mode === "latlong" ? " selected" : "") + '>Latitude / longitude</option><option value="query"' + (mode === "query" ? " selected" : "") + ">Search query</option></select></div>";
      if (mode === "latlong") {
        html += this.field({ path: a + ".viewLocationAction.latLong.latitude", label: "Latitude", kind: "number", type: "num", step: "any", required: true, placeholder: "48.8566" }) +
          this.field({ path: a + ".viewLocationAction.latLong.longitude", label: "Longitude", kind: "number", type: "num", step: "any", required: true, placeholder: "2.3522" });
      } else {
        html += this.field({ path: a + ".viewLocationAction.query", label: "Search query", required: true, personalizable: true, placeholder: "Example Store near me" });
      }
      html += this.field({ path: a + ".viewLocationAction.label", label: "Label", optional: true, personalizable: true });
    } else if (t === "create_calendar_event") {
      var c = a + ".createCalendarEventAction";
      html += this.field({ path: c + ".title", label: "Event title", required: true, personalizable: true }) +
        this.field({ path: c + ".startTime", label: "Starts", kind: "datetime-local", type: "datetime", required: true, help: "Your local time." }) +
        this.field({ path: c + ".endTime", label: "Ends", kind: "datetime-local", type: "datetime", required: true }) +
        this.field({ path: c + ".description", label: "Event description", kind: "textarea", rows: 2, optional: true, personalizable: true, wide: true });
    } else if (t === "share_location") {
      html += '<p class="rcs-note-inline">Asks the person to share their location with you.</p>';
    }
    return html + "</div></div>";
  };

  Composer.prototype.itemButtons = function (p, index, count, what) {
    if (this.readOnly) return "";
    var n = index + 1, horiz = what === "card";
    return '<span class="rcs-item-buttons">' +
      '<button type="button" class="rcs-icon" data-action="move-up" data-path="' + esc(p) + '"' + (index === 0 ? " disabled" : "") + ' aria-label="Move ' + what + " " + n + (horiz ? " left" : " up") + '" title="Move ' + (horiz ? "left" : "up") + '">' + (horiz ? "←" : "↑") + "</button>" +
      '<button type="button" class="rcs-icon" data-action="move-down" data-path="' + esc(p) + '"' + (index === count - 1 ? " disabled" : "") + ' aria-label="Move ' + what + " " + n + (horiz ? " right" : " down") + '" title="Move ' + (horiz ? "right" : "down") + '">' + (horiz ? "→" : "↓") + "</button>" +
      (what === "card" ? '<button type="button" class="rcs-icon" data-action="duplicate-card" data-path="' + esc(p) + '"' + (count >= this.cfg.limits.carousel_cards ? " disabled" : "") + ' aria-label="Duplicate card ' + n + '" title="Duplicate">Copy</button>' : "") +
      '<button type="button" class="rcs-icon rcs-danger" data-action="remove-' + what + '" data-path="' + esc(p) + '" aria-label="Remove ' + what + " " + n + '" title="Remove">✕</button></span>';
  };

  Composer.prototype.suggestionList = function (listPath, max, title) {
    var list = getPath(this.doc, listPath) || [], self = this;
    var html = '<div class="rcs-suggestions" data-scope-path="' + esc(listPath) + '"><div class="rcs-subhead"><h4>' + title + ' <span class="rcs-count">' + list.length + " / " + max + "</span></h4>" +
      (this.readOnly ? "" : '<button type="button" class="button rcs-small" data-action="add-suggestion" data-path="' + esc(listPath) + '"' + (list.length >= max ? " disabled" : "") + ">+ Add suggestion</button>") + "</div>" +
      '<div class="rcs-msg rcs-scope-msg" id="' + this.fid(listPath) + '-msg"></div>';
    list.forEach(function (s, i) { html += self.suggestionEditor(listPath + "." + i, i, list.length); });
    return html + "</div>";
  };

  Composer.prototype.cardEditor = function (p, index, count, carousel) {
    var c = getPath(this.doc, p) || {};
    var title = c.title ? " — " + esc(c.title.slice(0, 40)) : "";
    var media = isObj(c.media) ? c.media : {};
    var heights = [["", "Default"], ["SHORT", "Short"], ["MEDIUM", "Medium"], ["TALL", "Tall"]];
    var html = '<section class="rcs-card-editor" data-scope-path="' + esc(p) + '"' + (carousel ? ' data-index="' + index + '"' : "") + ">" +
      '<div class="rcs-card-head">' + (carousel && !this.readOnly ? '<span class="rcs-drag" draggable="true" title="Drag to reorder" aria-hidden="true">⠿</span>' : "") +
      "<h3>" + (carousel ? "Card " + (index + 1) + '<span class="rcs-card-title">' + title + "</span>" : "Card") + "</h3>" +
      (carousel ? this.itemButtons(p, index, count, "card") : "") + "</div>" +
      '<div class="rcs-msg rcs-scope-msg" id="' + this.fid(p) + '-msg"></div>' +
      this.field({ path: p + ".title", label: "Title", optional: true, limit: "card_title", plimit: "max_card_title", personalizable: true, wide: true }) +
      this.field({ path: p + ".description", label: "Description", kind: "textarea", rows: 3, optional: true, limit: "card_description", plimit: "max_card_description", personalizable: true, wide: true }) +
      '<fieldset class="rcs-media" data-scope-path="' + esc(p + ".media") + '"><legend>Media</legend><div class="rcs-msg rcs-scope-msg" id="' + this.fid(p + ".media") + '-msg"></div>' +
      this.contentInfoFields(p + ".media.contentInfo", "card") +
      this.field({ path: p + ".media.height", label: "Media height", kind: "select", optional: true, options: heights, value: media.height || "" }) +
      "</fieldset>" +
      this.suggestionList(p + ".suggestions", this.cfg.limits.card_suggestions, "Card suggestions") +
      "</section>";
    return html;
  };

  Composer.prototype.fallbackEditor = function () {
    var fb = isObj(this.doc.fallback) ? this.doc.fallback : {}, ro = this.readOnly ? " disabled" : "";
    var html = '<fieldset class="rcs-section rcs-fallback" data-scope-path="fallback"><legend>Fallback when RCS is not available</legend><div class="rcs-msg rcs-scope-msg" id="' + this.fid("fallback") + '-msg"></div>' +
      '<div class="rcs-toggle-row"><button type="button" class="button rcs-small" data-action="toggle-sms" aria-pressed="' + (isObj(fb.sms) ? "true" : "false") + '"' + ro + ">" + (isObj(fb.sms) ? "Remove SMS fallback" : "+ SMS fallback") + "</button>" +
      '<button type="button" class="button rcs-small" data-action="toggle-mms" aria-pressed="' + (isObj(fb.mms) ? "true" : "false") + '"' + ro + ">" + (isObj(fb.mms) ? "Remove MMS fallback" : "+ MMS fallback") + "</button></div>";
    if (isObj(fb.sms)) {
      html += '<div class="rcs-sub" data-scope-path="fallback.sms"><h4>SMS</h4><div class="rcs-msg rcs-scope-msg" id="' + this.fid("fallback.sms") + '-msg"></div>' +
        this.field({ path: "fallback.sms.text", label: "SMS text", kind: "textarea", rows: 3, required: true, personalizable: true, plimit: "max_fallback_text", wide: true, sms: true }) +
        this.field({ path: "fallback.sms.sender", label: "Sender", optional: true, help: "Empty = the agent's default sender." }) + "</div>";
    }
    if (isObj(fb.mms)) {
      html += '<div class="rcs-sub" data-scope-path="fallback.mms"><h4>MMS</h4><div class="rcs-msg rcs-scope-msg" id="' + this.fid("fallback.mms") + '-msg"></div>' +
        this.field({ path: "fallback.mms.text", label: "MMS text", kind: "textarea", rows: 3, required: true, personalizable: true, plimit: "max_fallback_text", wide: true }) +
        this.field({ path: "fallback.mms.mediaUrl", label: "MMS media URL", kind: "url", optional: true, limit: "media_url", personalizable: true, wide: true, extra: this.mediaTools("fallback.mms.mediaUrl", "card") }) +
        this.field({ path: "fallback.mms.subject", label: "Subject", optional: true, plimit: "max_mms_subject", personalizable: true }) + "</div>";
    }
    return html + "</fieldset>";
  };

  Composer.prototype.renderEditor = function () {
    var d = this.doc, kind = kindOf(d), self = this, html = "";
    var active = document.activeElement, focusPath = active && this.editor.contains(active) ? (active.dataset.path || "") : "";
    var sel = active && active.selectionStart;
    this.shell.querySelectorAll('[data-action="kind"]').forEach(function (r) { r.checked = r.value === kind; });
    this.shell.classList.toggle("rcs-is-empty", this.empty);
    this.emptyBox.hidden = !this.empty;
    this.shell.querySelector(".rcs-layout").hidden = false;
    if (this.empty) {
      this.emptyBox.innerHTML = '<p><strong>No override:</strong> this send goes out with its template\'s content (checked against the agent below).</p>' +
        (this.readOnly ? "" : '<button type="button" class="button" data-action="start-override">Customize the content for this send</button>');
      this.editor.innerHTML = "";
      return;
    }
    html += '<div class="rcs-root-msg rcs-msg rcs-scope-msg" id="' + this.fid("") + '-msg"></div>';
    if (kind === "text") {
      html += '<fieldset class="rcs-section"><legend>Text</legend>' + this.field({ path: "text", label: "Message text", kind: "textarea", rows: 5, required: true, limit: "text", plimit: "max_text_length", personalizable: true, wide: true, placeholder: "Hello {{ first_name }}, …" }) + "</fieldset>";
    } else if (kind === "file") {
      html += '<fieldset class="rcs-section" data-scope-path="contentInfo"><legend>File / media</legend><div class="rcs-msg rcs-scope-msg" id="' + this.fid("contentInfo") + '-msg"></div>' + this.contentInfoFields("contentInfo", "file") + "</fieldset>";
    } else if (kind === "card") {
      var sc = d.richCard.standaloneCard || {}, orient = sc.cardOrientation || "VERTICAL";
      html += '<fieldset class="rcs-section" data-scope-path="richCard.standaloneCard"><legend>Rich card</legend><div class="rcs-msg rcs-scope-msg" id="' + this.fid("richCard.standaloneCard") + '-msg"></div><div class="rcs-grid">' +
        this.field({ path: "richCard.standaloneCard.cardOrientation", label: "Layout", kind: "select", rebuild: true, options: [["VERTICAL", "Vertical (media on top)"], ["HORIZONTAL", "Horizontal (media beside)"]], value: orient }) +
        (orient === "HORIZONTAL" ? this.field({ path: "richCard.standaloneCard.thumbnailImageAlignment", label: "Media side", kind: "select", optional: true, options: [["", "Default (left)"], ["LEFT", "Left"], ["RIGHT", "Right"]] }) : "") +
        "</div>" + this.cardEditor("richCard.standaloneCard.cardContent", 0, 1, false) + "</fieldset>";
    } else {
      var cc = d.richCard.carouselCard || {}, cards = Array.isArray(cc.cardContents) ? cc.cardContents : [];
      html += '<fieldset class="rcs-section" data-scope-path="richCard.carouselCard"><legend>Carousel</legend><div class="rcs-msg rcs-scope-msg" id="' + this.fid("richCard.carouselCard") + '-msg"></div><div class="rcs-grid">' +
        this.field({ path: "richCard.carouselCard.cardWidth", label: "Card width", kind: "select", options: [["MEDIUM", "Medium"], ["SMALL", "Small"]], value: cc.cardWidth || "MEDIUM" }) +
        '<p class="rcs-help rcs-carousel-help">' + cards.length + " of " + this.cfg.limits.carousel_cards_min + "–" + this.cfg.limits.carousel_cards + ' cards. Reorder with the arrow buttons or drag ⠿.</p></div>' +
        '<div class="rcs-msg rcs-scope-msg" data-scope-path="richCard.carouselCard.cardContents" id="' + this.fid("richCard.carouselCard.cardContents") + '-msg"></div>' +
        '<div class="rcs-cards">' + cards.map(function (c, i) { return self.cardEditor("richCard.carouselCard.cardContents." + i, i, cards.length, true); }).join("") + "</div>" +
        (this.readOnly ? "" : '<button type="button" class="button rcs-add-card" data-action="add-card"' + (cards.length >= this.cfg.limits.carousel_cards ? " disabled" : "") + ">+ Add card</button>") +
        "</fieldset>";
    }
    html += '<fieldset class="rcs-section">' + '<legend>Message suggestions</legend>' + this.suggestionList("suggestions", this.cfg.limits.message_suggestions, "Chips under the message") + "</fieldset>";
    html += this.fallbackEditor();
    if (this.cfg.mode === "send" && !this.readOnly) html += '<p class="rcs-clear"><button type="button" class="button rcs-small" data-action="clear-override">Remove the override (send the template\'s content)</button></p>';
    this.editor.innerHTML = html;
    var clear = this.editor.querySelector('[data-action="clear-override"]');
    if (clear) clear.addEventListener("click", function (e) { e.preventDefault(); self.clearOverride(); });
    if (focusPath) {
      var el = this.editor.querySelector('[data-path="' + cssEscape(focusPath) + '"]:not(button)');
      if (el) { el.focus(); try { if (sel != null && el.setSelectionRange) el.setSelectionRange(sel, sel); } catch (e) { /* number inputs */ } }
    }
    this.fieldIndex = null;
  };

  function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/"/g, '\\"'); }

  Composer.prototype.focusPath = function (path) {
    if (path === "@add-card") { var b = this.editor.querySelector('[data-action="add-card"]'); if (b) b.focus(); return; }
    if (path.indexOf("@move-") === 0) {
      var rest = path.slice(1), act = rest.split(":")[0], p = rest.split(":")[1];
      var btn = this.editor.querySelector('[data-action="' + act + '"][data-path="' + cssEscape(p) + '"]');
      if (btn && btn.disabled) btn = this.editor.querySelector('[data-action="' + (act === "move-up" ? "move-down" : "move-up") + '"][data-path="' + cssEscape(p) + '"]');
      if (btn) btn.focus();
      return;
    }
    if (this.tab !== "visual") this.showTab("visual", false);
    var target = this.locate(path);
    if (target) {
      var el = target.field ? target.field.querySelector("input,textarea,select") : target.scope.querySelector("input,textarea,select,button");
      if (el) { el.focus(); el.scrollIntoView({ block: "center" }); }
    }
  };

  /** The field (exact path) or the closest scope (card, suggestion...) a path belongs to. */
  Composer.prototype.locate = function (path) {
    if (!this.fieldIndex) {
      var idx = { fields: {}, scopes: {} };
      this.editor.querySelectorAll("[data-field-path]").forEach(function (el) { idx.fields[el.dataset.fieldPath] = el; });
      this.editor.querySelectorAll("[data-scope-path]").forEach(function (el) { idx.scopes[el.dataset.scopePath] = el; });
      this.fieldIndex = idx;
    }
    var p = path;
    while (true) {
      if (this.fieldIndex.fields[p]) return { field: this.fieldIndex.fields[p] };
      if (this.fieldIndex.scopes[p]) return { scope: this.fieldIndex.scopes[p] };
      if (!p) return null;
      p = parentPath(p);
    }
  };

  // ---------------------------------------------------------------- update cycle
  Composer.prototype.update = function (structural, fromJson) {
    var t0 = performance.now();
    this.version++;
    if (!this.empty && !fromJson && this.tab === "visual") this.textarea.value = JSON.stringify(this.doc, null, 2);
    if (this.empty && !fromJson) this.textarea.value = "";
    if (fromJson && this.tab === "json") this.fieldIndex = null;
    var errors = this.empty ? [] : validate(this.doc, this.cfg);
    var prov = this.provider(), warnings = [];
    if (prov && !this.empty) warnings = providerCheck(this.doc, prov, this.cfg);
    if (this.serverCheck && this.serverCheck.agent === (this.agent() || {}).id && this.serverCheck.json === this.textarea.value) {
      warnings = mergeWarnings(warnings, this.serverCheck.unsupported);
    }
    var server = this.serverProblems.map(function (p) { return { path: p.path, text: p.text, level: "error", server: true }; });
    var all = mergeErrors(server, errors);
    this.errors = all;
    this.warnings = warnings;
    this.showMessages(all, warnings);
    this.updateCounters();
    var t1 = performance.now();
    this.renderPreview();
    var t2 = performance.now();
    this.renderSms();
    this.renderWarnings(prov, warnings);
    this.renderSummary(all);
    var t3 = performance.now();
    this.timings.render.push(t2 - t1);
    this.timings.update.push(t3 - t0);
    if (this.timings.update.length > 500) { this.timings.update.shift(); this.timings.render.shift(); }
    this.scheduleServerCheck(600);
  };

  function mergeErrors(server, client) {
    var seen = {}, out = [];
    server.concat(client).forEach(function (e) { var k = e.path + "|" + e.text; if (!seen[k]) { seen[k] = 1; out.push(e); } });
    return out;
  }
  function mergeWarnings(client, server) {
    var seen = {}, out = [];
    client.concat(server.map(function (u) { return { path: u.path, reason: u.reason, level: "warning", degradations: u.degradations || [] }; }))
      .forEach(function (w) { var k = w.path + "|" + w.reason; if (!seen[k]) { seen[k] = 1; out.push(w); } });
    return out;
  }

  Composer.prototype.showMessages = function (errors, warnings) {
    var self = this;
    (this.shownMessages || []).forEach(function (el) {
      el.innerHTML = "";
      var f = el.closest(".rcs-field");
      if (f) { f.classList.remove("rcs-has-error", "rcs-has-warning"); var input = f.querySelector("input,textarea,select"); if (input) input.removeAttribute("aria-invalid"); }
      var sc = el.closest("[data-scope-path]");
      if (sc) sc.classList.remove("rcs-scope-error");
    });
    this.shownMessages = [];
    if (this.tab !== "visual" && !this.editor.childElementCount) return;
    var groups = {};
    errors.forEach(function (e) { (groups[e.path] = groups[e.path] || []).push(e); });
    warnings.forEach(function (w) { (groups[w.path] = groups[w.path] || []).push({ path: w.path, text: w.reason, level: "warning" }); });
    Object.keys(groups).forEach(function (path) {
      var loc = self.locate(path);
      var box;
      if (loc && loc.field) box = loc.field.querySelector(".rcs-msg");
      else if (loc && loc.scope) box = loc.scope.querySelector(".rcs-scope-msg") || loc.scope.querySelector(".rcs-msg");
      if (!box) box = self.editor.querySelector(".rcs-root-msg");
      if (!box) return;
      var exact = loc && loc.field && loc.field.dataset.fieldPath === path;
      var scopeExact = loc && loc.scope && loc.scope.dataset.scopePath === path;
      groups[path].forEach(function (e) {
        var prefix = exact || scopeExact ? "" : describePath(path) + ": ";
        box.insertAdjacentHTML("beforeend", '<span class="rcs-' + e.level + '">' + (e.level === "warning" ? "⚠ " : "") + esc(prefix + e.text) + (e.server ? ' <em>(on save)</em>' : "") + "</span>");
      });
      var hasError = groups[path].some(function (e) { return e.level === "error"; });
      if (loc && loc.field) {
        loc.field.classList.add(hasError ? "rcs-has-error" : "rcs-has-warning");
        var input = loc.field.querySelector("input,textarea,select");
        if (input && hasError) input.setAttribute("aria-invalid", "true");
      } else if (loc && loc.scope && hasError) loc.scope.classList.add("rcs-scope-error");
      self.shownMessages.push(box);
    });
  };

  Composer.prototype.updateCounters = function () {
    var self = this, L = this.cfg.limits, prov = this.provider();
    this.editor.querySelectorAll("[data-limit],[data-plimit]").forEach(function (el) {
      var counter = el.parentNode.querySelector(".rcs-counter");
      if (!counter) return;
      var n = clen(el.value), max = L[el.dataset.limit], pmax = prov && el.dataset.plimit ? prov.capabilities[el.dataset.plimit] : null;
      var parts = [], cls = "";
      if (max) { parts.push(n + " / " + max); if (n > max) cls = "rcs-over"; }
      else parts.push(n + " characters");
      if (pmax) { parts.push(prov.name + " " + pmax); if (n > pmax && !cls) cls = "rcs-warn"; }
      if (el.dataset.path === "fallback.sms.text") {
        var info = segmentInfo(el.value);
        parts.push(info.encoding + " · " + info.segments + " SMS");
      }
      var text = parts.join(" · ");
      if (counter.textContent !== text) counter.textContent = text;
      counter.className = "rcs-counter " + cls;
    });
  };

  Composer.prototype.renderPreview = function () {
    var agent = this.agent();
    this.shell.querySelector(".rcs-agent-name").textContent = agent ? agent.name : "Your brand";
    this.shell.querySelector(".rcs-avatar").textContent = (agent ? agent.name : "B").slice(0, 1).toUpperCase();
    if (this.empty) { this.phone.innerHTML = '<div class="rcs-pv-note">The template\'s content is sent.</div>'; this.lastParts = null; return; }
    var parts = previewParts(this.doc, this.activeCard), last = this.lastParts, body = this.phone;
    // Only what changed is replaced: typing in one card re-renders that card, nothing else
    // (no image reloads, no lost carousel scroll position).
    if (last && last.cards && parts.cards && last.head === parts.head && last.cards.length === parts.cards.length &&
        body.firstElementChild && body.firstElementChild.classList.contains("rcs-pv-carousel")) {
      var car = body.firstElementChild;
      for (var i = 0; i < parts.cards.length; i++) {
        if (parts.cards[i] !== last.cards[i]) {
          var tpl = document.createElement("template");
          tpl.innerHTML = parts.cards[i];
          car.replaceChild(tpl.content.firstElementChild, car.children[i]);
        }
      }
      if (parts.chips !== last.chips) {
        var old = body.querySelector(":scope > .rcs-pv-chips");
        if (old) old.remove();
        if (parts.chips) body.insertAdjacentHTML("beforeend", parts.chips);
      }
    } else if (!last || last.head !== parts.head || last.chips !== parts.chips || String(last.cards) !== String(parts.cards)) {
      body.innerHTML = parts.head + (parts.cards ? parts.cards.join("") + "</div>" : "") + parts.chips;
    }
    this.lastParts = parts;
  };
  Composer.prototype.scrollPreviewTo = function (idx) {
    var car = this.phone.querySelector(".rcs-pv-carousel");
    if (!car || idx < 0) return;
    var card = car.children[idx];
    if (card) car.scrollLeft = card.offsetLeft - car.offsetLeft - 8;
  };

  Composer.prototype.renderSms = function () {
    var fb = isObj(this.doc.fallback) ? this.doc.fallback : {}, html = "";
    if (isObj(fb.sms)) {
      var info = segmentInfo(fb.sms.text || "");
      html += '<h4>Fallback SMS' + (fb.sms.sender ? " · from " + esc(fb.sms.sender) : "") + "</h4>" +
        '<div class="rcs-sms-bubble">' + (fb.sms.text ? fillPlaceholders(fb.sms.text) : '<span class="rcs-pv-empty">Empty</span>') + "</div>" +
        '<dl class="rcs-sms-stats" data-sms-stats>' +
        '<div><dt>Encoding</dt><dd data-sms="encoding">' + info.encoding + "</dd></div>" +
        '<div><dt>Characters</dt><dd data-sms="characters">' + info.characters + "</dd></div>" +
        '<div><dt>' + (info.encoding === "GSM-7" ? "Septets" : "UTF-16 units") + '</dt><dd data-sms="units">' + info.lengthUnits + "</dd></div>" +
        '<div><dt>Segments</dt><dd data-sms="segments">' + info.segments + "</dd></div>" +
        '<div><dt>Left in last</dt><dd data-sms="remaining">' + info.remaining + " / " + info.perSegment + "</dd></div></dl>" +
        (info.encoding === "UCS-2" ? '<p class="rcs-help">A character outside GSM-7 makes the whole SMS Unicode (70 per SMS, 67 per part).</p>' : "") +
        (/\{\{/.test(fb.sms.text || "") ? '<p class="rcs-help">Placeholders are counted as typed; the real length depends on each contact.</p>' : "");
    }
    if (isObj(fb.mms)) {
      html += "<h4>Fallback MMS" + (fb.mms.subject ? " · " + esc(fb.mms.subject) : "") + "</h4>" +
        (fb.mms.mediaUrl ? mediaHtml({ fileUrl: fb.mms.mediaUrl }, 96, "rcs-sms-media") : "") +
        '<div class="rcs-sms-bubble">' + (fb.mms.text ? fillPlaceholders(fb.mms.text) : '<span class="rcs-pv-empty">Empty</span>') + "</div>";
    }
    if (!html) html = '<h4>Fallback</h4><p class="rcs-help">No SMS/MMS fallback: people without RCS receive nothing.</p>';
    if (this.smsHtml !== html) { this.smsBox.innerHTML = html; this.smsHtml = html; }
  };

  Composer.prototype.currentDegradations = function () {
    var ta = this.form && this.form.querySelector('textarea[name="degradations"]');
    if (!ta) return null;
    try { var v = JSON.parse(ta.value || "[]"); return Array.isArray(v) ? v : []; } catch (e) { return []; }
  };
  Composer.prototype.toggleDegradation = function (k, on) {
    var ta = this.form.querySelector('textarea[name="degradations"]'), list = this.currentDegradations() || [];
    list = list.filter(function (x) { return x !== k; });
    if (on) list.push(k);
    ta.value = JSON.stringify(list);
    this.warnHtml = null;
    this.renderWarnings(this.provider(), this.warnings);
  };

  Composer.prototype.renderWarnings = function (prov, warnings) {
    var agent = this.agent(), html, self = this;
    var accepted = this.cfg.mode === "send" ? this.currentDegradations() : null;
    if (!agent) {
      html = '<h4>Provider check</h4><p class="rcs-help">' + (this.cfg.mode === "send" ? "Choose the agent to see what its provider cannot carry." : "Choose an “Agent to check against” to see what its provider cannot carry.") + "</p>";
    } else {
      if (this.empty && this.serverCheck && this.serverCheck.agent === agent.id) warnings = mergeWarnings([], this.serverCheck.unsupported);
      html = '<h4>' + esc(agent.name) + ' <span class="rcs-provider">' + esc(prov ? prov.name : agent.provider) + "</span></h4>";
      if (!warnings.length) html += '<p class="rcs-ok">✓ ' + esc(prov ? prov.name : "This provider") + " can carry this message.</p>";
      else {
        html += '<p class="rcs-warn-lead">' + esc(prov ? prov.name : "This provider") + " cannot carry " + warnings.length + (warnings.length === 1 ? " thing" : " things") + ":</p><ul class=\"rcs-warn-list\">" +
          warnings.map(function (w) {
            var deg = (w.degradations || []).map(function (d) {
              if (accepted) {
                var cid = self.id + "-deg-" + d.key + "-" + esc(w.path).replace(/\W/g, "");
                return '<li><label><input type="checkbox" data-degradation="' + esc(d.key) + '"' + (accepted.indexOf(d.key) >= 0 ? " checked" : "") + (self.readOnly ? " disabled" : "") + "> " + esc(d.label) + "</label></li>";
              }
              return "<li>" + esc(d.label) + "</li>";
            }).join("");
            return '<li class="rcs-warning-item" data-path="' + esc(w.path) + '"><a href="#" data-goto-warning="' + esc(w.path) + '">' + esc(describePath(w.path)) + "</a>: " + esc(w.reason) +
              (deg ? '<div class="rcs-deg"><span>' + (accepted ? "Accept a degradation:" : "Possible degradation:") + "</span><ul>" + deg + "</ul></div>" : '<div class="rcs-deg rcs-nodeg">No automatic degradation: change the message.</div>') + "</li>";
          }).join("") + "</ul>";
      }
    }
    if (this.warnHtml !== html) {
      this.warnBox.innerHTML = html; this.warnHtml = html;
      this.warnBox.querySelectorAll("[data-goto-warning]").forEach(function (a) {
        a.addEventListener("click", function (e) { e.preventDefault(); self.focusPath(a.dataset.gotoWarning); });
      });
    }
  };

  Composer.prototype.renderSummary = function (errors) {
    var html = "";
    if (this.jsonError && this.tab === "json") html = "";
    else if (errors.length) {
      html = '<strong>' + errors.length + (errors.length === 1 ? " problem" : " problems") + " to fix:</strong><ul>" + errors.slice(0, 8).map(function (e) {
        return '<li><a href="#" data-goto="' + esc(e.path) + '">' + esc(describePath(e.path)) + "</a>: " + esc(e.text) + "</li>";
      }).join("") + (errors.length > 8 ? "<li>…and " + (errors.length - 8) + " more</li>" : "") + "</ul>";
    }
    if (this.summaryHtml !== html) { this.summary.innerHTML = html; this.summaryHtml = html; this.summary.classList.toggle("rcs-has-errors", !!html); }
  };

  Composer.prototype.announce = function (text) {
    var live = this.shell.querySelector(".rcs-announce");
    if (!live) { live = document.createElement("div"); live.className = "rcs-announce rcs-sr"; live.setAttribute("aria-live", "polite"); this.shell.appendChild(live); }
    live.textContent = text;
  };

  Composer.prototype.scheduleServerCheck = function (delay) {
    var self = this;
    clearTimeout(this.serverTimer);
    var agent = this.agent();
    if (!agent || !this.cfg.urls.check) return;
    this.serverTimer = setTimeout(function () {
      var json = self.textarea.value, body;
      if (self.empty) {
        var tpl = self.form && self.form.querySelector('[name="template"]');
        if (!tpl || !tpl.value) return;
        body = { template: tpl.value, agent: agent.id };
      } else {
        var parsed;
        try { parsed = JSON.parse(json); } catch (e) { return; }
        body = { content: parsed, agent: agent.id };
      }
      if (self.serverCheck && self.serverCheck.json === json && self.serverCheck.agent === agent.id && !self.empty) return;
      var seq = self.serverSeq = (self.serverSeq || 0) + 1;
      fetch(self.cfg.urls.check, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(self.form) },
        body: JSON.stringify(body)
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
        // A slower answer for an agent (or text) the user has since changed is stale.
        if (!j || seq !== self.serverSeq || (self.agent() || {}).id !== agent.id) return;
        self.serverCheck = { json: json, agent: agent.id, unsupported: j.unsupported || [] };
        if (self.textarea.value === json) {
          var w = self.empty ? mergeWarnings([], j.unsupported || []) : mergeWarnings(providerCheck(self.doc, self.provider(), self.cfg), j.unsupported || []);
          self.warnings = w;
          if (!self.empty) self.showMessages(self.errors || [], w);
          self.renderWarnings(self.provider(), w);
        }
      }).catch(function () { /* offline: keep the client-side checks */ });
    }, delay);
  };

  // ------------------------------------------------------------------ boot
  var root_registry = [];
  window.rcsComposers = root_registry;
  window.RcsComposer = {
    segmentInfo: segmentInfo, validate: validate, providerCheck: providerCheck, previewHtml: previewHtml,
    describePath: describePath, Composer: Composer
  };

  function boot() {
    document.querySelectorAll(".rcs-composer[data-config]:not(.rcs-ready)").forEach(function (el) {
      try { new Composer(el); } catch (e) { if (window.console) console.error("composer failed", e); el.classList.add("rcs-failed"); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot); else boot();
})();
