// CloudFront Function (cloudfront-js-2.0), viewer request of /t/*: collapse the browser's Accept
// header to one of three values (image/avif, image/webp, image/jpeg) before the cache key is
// computed, so the cache holds at most three entries per transformation instead of one per
// browser build. Mirrors normalize_accept in media_core/domain/transform.py; both are tested on
// accept_cases.json.

// RFC 9110 qvalue; anything else counts as q=0 (same rule as the Python side).
var QVALUE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;
var TOKENS = ['avif', 'webp', 'jpeg'];

function acceptedRanges(accept) {
    var ranges = {};
    var items = accept.toLowerCase().split(',');
    for (var i = 0; i < items.length; i++) {
        var params = items[i].split(';');
        var media = params[0].trim();
        if (!media) {
            continue;
        }
        var q = 1.0;
        for (var j = 1; j < params.length; j++) {
            var param = params[j];
            var eq = param.indexOf('=');
            var name = (eq < 0 ? param : param.slice(0, eq)).trim();
            if (name === 'q') {
                var value = (eq < 0 ? '' : param.slice(eq + 1)).trim();
                q = QVALUE.test(value) ? Number(value) : 0.0;
            }
        }
        ranges[media] = Math.max(q, ranges[media] || 0.0);
    }
    return ranges;
}

// Any Accept header -> 'avif' | 'webp' | 'jpeg'. Wildcards promise nothing; q=0 excludes a type.
function normalizeAccept(accept) {
    var text = (accept || '').trim().toLowerCase();
    if (TOKENS.indexOf(text) >= 0) {
        return text;
    }
    var ranges = acceptedRanges(text);
    if ((ranges['image/avif'] || 0) > 0) {
        return 'avif';
    }
    if ((ranges['image/webp'] || 0) > 0) {
        return 'webp';
    }
    return 'jpeg';
}

function handler(event) {
    var request = event.request;
    var header = request.headers.accept;
    var accept = '';
    if (header) {
        // Repeated Accept headers arrive as multiValue; HTTP says they mean the joined list.
        accept = header.multiValue
            ? header.multiValue.map(function (v) { return v.value; }).join(',')
            : header.value;
    }
    request.headers.accept = { value: 'image/' + normalizeAccept(accept) };
    return request;
}
