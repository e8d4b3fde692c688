"""No EXIF, GPS, XMP or comments in any variant; GPS in metadata only when allowed."""

from __future__ import annotations

import pytest
from media_core.engines.imaging.guards import ImageLimits
from media_core.engines.imaging.image_job import process_image

from tests.support import images
from tests.unit.imaging.conftest import decode

SOURCES = {
    "generated-exif-xmp-comment": images.jpeg_with_metadata,
    "corpus-gps": lambda: images.corpus("gps_DSCN0010.jpg"),
    "corpus-xmp": lambda: images.corpus("orientation/landscape_1.jpg"),
    "corpus-heic": lambda: images.corpus("heic/samplefilehub.heif"),
}


@pytest.mark.parametrize("source", SOURCES)
def test_variants_carry_no_metadata(source: str) -> None:
    # Given an original with EXIF (camera, GPS), XMP and/or a comment
    data = SOURCES[source]()

    # When it is processed
    result = process_image(data, declared_content_type="image/jpeg")

    # Then no variant carries any of it
    for variant in result.variants:
        image = decode(variant)
        assert len(image.getexif()) == 0, variant.name
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"} & set(image.info), (
            variant.name
        )
        for secret in (b"secret", b"GPS", b"NIKON", b"TestCam", b"http://ns.adobe.com"):
            assert secret not in variant.data, (variant.name, secret)


def test_gps_is_left_out_by_default() -> None:
    # Given a photo with GPS coordinates
    data = images.corpus("gps_DSCN0010.jpg")

    # When it is processed with the default limits
    result = process_image(data, declared_content_type="image/jpeg")

    # Then the metadata has camera EXIF but no location
    assert "gps" not in result.metadata
    assert result.metadata["exif"]["make"] == "NIKON"
    assert "GPS" not in str(result.metadata)


def test_gps_is_recorded_when_allowed() -> None:
    # Given a photo with GPS coordinates (Nikon DSCN0010: 43.467 N, 11.885 E)
    data = images.corpus("gps_DSCN0010.jpg")

    # When it is processed with allow_gps
    result = process_image(data, declared_content_type="image/jpeg", limits=ImageLimits(allow_gps=True))

    # Then decimal coordinates are recorded
    location = result.metadata["gps"]
    assert location["lat"] == pytest.approx(43.4674, abs=0.001)
    assert location["lon"] == pytest.approx(11.8851, abs=0.001)


def test_curated_exif_fields() -> None:
    # Given a generated JPEG with known EXIF and a GPS position south-west... of nothing: N/E
    data = images.jpeg_with_metadata()

    # When it is processed with allow_gps
    metadata = process_image(
        data, declared_content_type="image/jpeg", limits=ImageLimits(allow_gps=True)
    ).metadata

    # Then the curated fields are there, typed, ISO dates; software and raw tags are not
    assert metadata["exif"] == {
        "make": "TestCam",
        "model": "Model X",
        "taken_at": "2024-05-06T07:08:09",
        "f_number": 2.8,
        "iso": 200,
    }
    assert metadata["gps"] == {
        "lat": pytest.approx(48.858056),
        "lon": pytest.approx(2.294444),
        "altitude": 35.0,
    }
    assert "secret-software" not in str(metadata)
