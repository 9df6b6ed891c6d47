"""File and image fields, written through the GraphQL multipart request spec.

The convention Apollo, urql and our ts_client speak
(https://github.com/jaydenseric/graphql-multipart-request-spec): a
``multipart/form-data`` POST with an ``operations`` part (the usual JSON body, with
``null`` where each file goes), a ``map`` part (``{"0": ["variables.data.cover"]}``)
and one part per file. The view puts each file where the map says; the ``Upload``
scalar accepts nothing else, so a client can never name a path in storage as a
"file" (a JSON string for an Upload is refused).

A file is stored by the field itself when the row is saved (``FieldFile.save``,
the field's ``upload_to`` and the project's storage), so the model's validators and
the storage backend apply as for a form. Limits (settings, ``API_GRAPHQL``):

- ``UPLOAD_MAX_BYTES`` (10 MiB): one file; a larger one is refused before anything
  runs with ``LIMIT_EXCEEDED``. ``UPLOAD_MAX_FILES`` (10) files per request.
- ``UPLOAD_CONTENT_TYPES``: the types a file may have, as patterns (``image/*``),
  for every file field; a ``ModelConfig.upload_types = {"cover": ["image/*"]}``
  narrows one field. An ``ImageField`` takes ``image/*`` unless configured. The type
  is read from the file's first bytes for the formats below, never from what the
  client claims; anything else is known by its name's extension, and can never pass
  as an image.
"""

from __future__ import annotations

import fnmatch
import mimetypes
from typing import Any, NewType

import orjson
import strawberry
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import HttpRequest

from api_graphql.conf import graphql_settings
from api_graphql.errors import GraphQLUserError, LimitExceeded
from api_graphql.model_graph import FieldSpec, ModelSpec

Upload = NewType("Upload", object)

#: Leading bytes of the formats whose type is read from the content.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
)


def _parse_upload(value: Any) -> UploadedFile:
    if not isinstance(value, UploadedFile):
        raise ValueError("An Upload is a file sent with the GraphQL multipart request "
                         "(multipart/form-data with operations and map), not a value.")
    return value


UPLOAD_SCALAR = strawberry.scalar(
    name="Upload",
    description="A file, sent as a part of a GraphQL multipart request "
                "(https://github.com/jaydenseric/graphql-multipart-request-spec).",
    serialize=lambda value: None,
    parse_value=_parse_upload,
)


def sniffed_type(upload: UploadedFile) -> str:
    """The file's type from its content for known formats, else from its name."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and upload.size is not None and upload.size >= 12:
        upload.seek(8)
        if upload.read(4) == b"WEBP":
            upload.seek(0)
            return "image/webp"
        upload.seek(0)
    guessed = mimetypes.guess_type(upload.name or "")[0] or "application/octet-stream"
    # An image proves itself by its bytes; a name alone never makes one.
    return "application/octet-stream" if guessed.startswith("image/") else guessed


def allowed_types(spec: ModelSpec, field: FieldSpec) -> tuple[str, ...] | None:
    """The patterns this field accepts (None: any type)."""
    configured = getattr(spec.config, "upload_types", None) or {}
    if field.name in configured:
        return tuple(configured[field.name])
    if isinstance(field.django_field, models.ImageField):
        return ("image/*",)
    patterns = graphql_settings().upload_content_types
    return tuple(patterns) if patterns else None


def check_upload(spec: ModelSpec, field: FieldSpec, upload: UploadedFile) -> dict[str, str] | None:
    """A field error when the file's type may not be stored in this field, else None
    (its size was checked when the request was read)."""
    patterns = allowed_types(spec, field)
    if patterns is not None:
        found = sniffed_type(upload)
        if not any(fnmatch.fnmatch(found, p) for p in patterns):
            return {"field": field.name, "code": "file_type",
                    "message": f"Files of type {found} are not accepted here "
                               f"(accepted: {', '.join(patterns)})."}
    return None


# -- the multipart request ------------------------------------------------------------
def _place(operations: Any, path: str, upload: UploadedFile) -> None:
    keys = path.split(".")
    target = operations
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = upload
    elif isinstance(target, dict) and last in target:
        target[last] = upload
    else:
        raise KeyError(path)


def multipart_payload(request: HttpRequest) -> dict[str, Any]:
    """The GraphQL request of a multipart body, with every file where its map says.

    Raises GraphQLUserError (BAD_REQUEST) for a body that does not follow the spec and
    LimitExceeded for too many or too large files."""
    settings = graphql_settings()
    try:
        operations = orjson.loads(request.POST.get("operations", ""))
        mapping = orjson.loads(request.POST.get("map", "{}"))
    except orjson.JSONDecodeError:
        raise _bad("operations and map must be JSON (GraphQL multipart request spec).") from None
    if not isinstance(operations, dict):
        raise _bad("operations must be one GraphQL request object (batches are not supported).")
    if not isinstance(mapping, dict):
        raise _bad("map must be an object of file keys to variable paths.")
    if len(mapping) > settings.upload_max_files:
        raise LimitExceeded(
            f"At most {settings.upload_max_files} files per request "
            "(API_GRAPHQL['UPLOAD_MAX_FILES']).", limit=settings.upload_max_files)
    for key, paths in mapping.items():
        upload = request.FILES.get(key)
        if upload is None:
            raise _bad(f"map names file {key!r}, which the request does not carry.")
        if upload.size is not None and upload.size > settings.upload_max_bytes:
            raise LimitExceeded(
                f"The file {upload.name!r} is {upload.size} bytes; at most "
                f"{settings.upload_max_bytes} are accepted (API_GRAPHQL['UPLOAD_MAX_BYTES']).",
                limit=settings.upload_max_bytes)
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise _bad(f"map[{key!r}] must be a list of variable paths.")
        for path in paths:
            if not path.startswith("variables."):
                raise _bad(f"A file may only go into variables, not {path!r}.")
            try:
                _place(operations, path, upload)
            except (KeyError, IndexError, ValueError, TypeError):
                raise _bad(f"map[{key!r}] names {path!r}, which operations does not have.") \
                    from None
    return operations


def request_too_large(request: HttpRequest) -> bool:
    """Whether the declared body is larger than every allowed file together could be
    (refused before Django reads it)."""
    settings = graphql_settings()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.upload_max_bytes * settings.upload_max_files + 1024 * 1024


def _bad(message: str) -> GraphQLUserError:
    error = GraphQLUserError(message)
    error.code = "BAD_REQUEST"
    return error


def contains_upload(value: Any) -> bool:
    """Whether variables carry a file of a multipart request anywhere inside."""
    if isinstance(value, UploadedFile):
        return True
    if isinstance(value, dict):
        return any(contains_upload(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_upload(v) for v in value)
    return False
