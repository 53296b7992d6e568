"""Mask pixels fetched from the demo server's media, for model-run metrics."""

from __future__ import annotations

import pytest

from export_widget.inspect import model_run_metrics
from export_widget.masks import MaskLoader


def media(server, name):
    return server.endpoint.removesuffix("/graphql") + f"/media/masks/{name}"


def test_plain_and_composite_masks_become_booleans(server):
    # The demo mask is 64x48: white, with a 16-row grey band across the middle.
    load = MaskLoader()
    url = media(server, "street-0001-sky.png")
    plain = load({"url": url})
    assert plain.shape == (48, 64) and plain.all()
    white = load({"url": url, "color_rgb": [255, 255, 255]})
    grey = load({"url": url, "color_rgb": [127, 127, 127]})
    assert int(white.sum()) == 32 * 64 and int(grey.sum()) == 16 * 64
    assert not (white & grey).any()


def test_metrics_read_the_pixels_of_two_different_mask_files(server):
    def row(truth, pred):
        return {"data_row": {"id": "r"}, "experiments": {"m": {"runs": {"run": {
            "name": "v1",
            "labels": [{"annotations": {"objects": [
                {"name": "sky", "feature_id": "t", "composite_mask": truth}]}}],
            "predictions": [{"annotations": {"objects": [
                {"name": "sky", "feature_id": "p", "mask": pred}]}}]}}}}}

    truth = {"url": media(server, "street-0001-sky.png"), "color_rgb": [255, 255, 255]}
    pred = {"url": media(server, "street-0002-sky.png")}
    m = model_run_metrics([row(truth, pred)], iou=0.5, masks=MaskLoader())
    assert m.matches.loc[0, "iou"] == pytest.approx(2 / 3)  # 2,048 of 3,072 pixels
    assert m.features.loc[0, ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
    m = model_run_metrics([row(truth, pred)], iou=0.7, masks=MaskLoader())
    assert m.features.loc[0, ["tp", "fp", "fn"]].tolist() == [0, 1, 1]


def test_an_unreadable_mask_is_named(server):
    load = MaskLoader()
    with pytest.raises(ValueError, match=r"mask.url: .*answered HTTP 404"):
        load({"url": media(server, "no/such.png")})
    with pytest.raises(ValueError, match=r"mask\.url: an http\(s\) URL is needed"):
        load({"url": "/media/masks/x.png"})
