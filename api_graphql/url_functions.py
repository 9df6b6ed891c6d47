"""The project's URLconf as data for typed client functions.

``urls.article_detail({pk: 1})`` in TypeScript gives ``/articles/1/``: the generator
reads, for every named URL, what Django's own ``reverse()`` reads (the resolver's
reverse dictionary: the path format, its parameters and their converters), so the
client builds exactly the paths Django would and checks each value with the
converter's regex (an ``<int:pk>`` takes a number). Namespaced names
(``shop:cart``) nest (``urls.shop.cart()``).

``API_GRAPHQL["URLS_EXCLUDE"]`` leaves names out (fnmatch patterns; the admin's by
default: it is a site, not an API).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from django.urls import URLResolver, get_resolver, get_script_prefix
from django.urls.converters import IntConverter, PathConverter

from api_graphql.conf import graphql_settings


def _param(converter: Any) -> dict[str, Any]:
    if converter is None:  # a regular expression group (re_path): any text
        return {"type": "string", "regex": "[^/]+", "slashes": False}
    return {
        "type": "number" if isinstance(converter, IntConverter) else "string",
        "converter": type(converter).__name__,
        "regex": str(converter.regex),
        "slashes": isinstance(converter, PathConverter),
    }


def _collect(resolver: URLResolver, prefix: str, namespace: str,
             out: dict[str, dict[str, Any]]) -> None:
    for key in list(resolver.reverse_dict):
        if not isinstance(key, str):
            continue
        name = f"{namespace}{key}"
        if name in out:
            continue
        # The first possibility is the one reverse() tries first.
        bits, _pattern, _defaults, converters = resolver.reverse_dict.getlist(key)[0]
        path_format, params = bits[0]
        out[name] = {
            "path": prefix + path_format,
            "params": {p: _param(converters.get(p)) for p in params},
        }
    for ns, (ns_prefix, sub) in resolver.namespace_dict.items():
        if "(" in ns_prefix or "%" in ns_prefix:
            continue  # a parametrised include prefix: not a plain path
        _collect(sub, prefix + ns_prefix, f"{namespace}{ns}:", out)


def url_manifest() -> dict[str, dict[str, Any]]:
    """Every named URL of ROOT_URLCONF: ``{name: {path, params}}`` with ``path`` a
    ``%(param)s`` format beginning with the script prefix."""
    found: dict[str, dict[str, Any]] = {}
    _collect(get_resolver(), get_script_prefix(), "", found)
    exclude = graphql_settings().urls_exclude
    return {name: entry for name, entry in sorted(found.items())
            if not any(fnmatch.fnmatch(name, pattern) for pattern in exclude)}
