"""Shared fixtures for the imaging tests: decoded variants and the corpus, processed once."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from media_core.engines.imaging.image_job import ProcessedImage, process_image
from media_core.engines.imaging.render import RenderedVariant
from PIL import Image

from tests.support import images

Pixels = npt.NDArray[np.float64]


def decode(variant: RenderedVariant) -> Image.Image:
    image = Image.open(io.BytesIO(variant.data))
    image.load()
    return image


def pixels(variant: RenderedVariant) -> Pixels:
    return np.asarray(decode(variant).convert("RGB"), dtype=np.float64)


def by_name(result: ProcessedImage) -> dict[str, RenderedVariant]:
    return {v.name: v for v in result.variants}


@pytest.fixture(scope="session")
def processed_corpus() -> Callable[[str], ProcessedImage]:
    """process_image over a corpus file, memoised: several tests look at the same photos."""
    cache: dict[str, ProcessedImage] = {}

    def get(name: str) -> ProcessedImage:
        if name not in cache:
            cache[name] = process_image(images.corpus(name), declared_content_type="image/jpeg")
        return cache[name]

    return get
