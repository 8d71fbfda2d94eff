"""The API's JSON renderer."""

import orjson
from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, as DRF writes it by default (compact, UTF-8, with U+2028 and U+2029
    escaped), encoded by orjson: a page of 500 events is half a megabyte, several with
    Digistore24's full payloads, and the standard library's encoder was a sixth of the time
    of such a page. What orjson would write in a form of its own (date-times, dataclasses)
    is handed to DRF's encoder instead, and an indented answer
    (Accept: application/json; indent=4, or the browsable API's) is DRF's own. Where they
    differ: a NaN or infinite float, which no answer of this API has, is null here and an
    error in DRF's. tests/api/test_renderer.py compares the two."""

    OPTIONS = (
        orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
    )

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        text = orjson.dumps(data, default=self.encoder_class().default, option=self.OPTIONS)
        return text.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
