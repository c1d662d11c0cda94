"""What every PDF the product makes must hold, read back with pypdf."""

from __future__ import annotations

import io

from pypdf import PdfReader

#: Each face embedded costs WeasyPrint a font subset per document (issue 13).
MAX_FACES = 2


def font_faces(data: bytes) -> set[str]:
    faces = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page.get("/Resources", {}).get("/Font", {}).values():
            faces.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return faces


def images(data: bytes) -> int:
    count = 0
    for page in PdfReader(io.BytesIO(data)).pages:
        for item in page.get("/Resources", {}).get("/XObject", {}).values():
            count += item.get_object().get("/Subtype") == "/Image"
    return count


def assert_lean(data: bytes) -> None:
    """At most two faces, all of them Nanum: no fallback font slipped in for a glyph or an
    SVG text without a family."""
    faces = font_faces(data)
    assert 1 <= len(faces) <= MAX_FACES, faces
    assert all(face.startswith("Nanum") for face in faces), faces
