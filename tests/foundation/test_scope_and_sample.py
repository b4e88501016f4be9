"""Catalog names and the synthetic field generator."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.local.sample import field_csv_bytes
from bot.scope import (
    ALL_COLUMNS,
    CLASS_COLUMNS,
    catalog_zip_name,
    dump_fields_json,
    field_from_filename,
    field_from_member,
    is_catalog_zip_name,
    is_valid_field_number,
    parse_fields_json,
)


def test_there_are_99_columns_and_88_scores():
    assert len(ALL_COLUMNS) == 99 and len(set(ALL_COLUMNS)) == 99
    assert len(CLASS_COLUMNS) == 88


@pytest.mark.parametrize(("name", "field"), [
    ("field_296.csv", 296), ("field_1897.csv.gz", 1897), ("field_0296.csv", None), ("field_296.CSV", None),
    ("field_.csv", None), ("xfield_296.csv", None), ("field_296.csv.bak", None), ("field_-1.csv", None),
])
def test_field_file_names(name, field):
    assert field_from_filename(name) == field


def test_members_at_top_level_or_in_one_folder():
    assert field_from_member("field_296.csv") == 296
    assert field_from_member("preds_dnn_xgb/field_296.csv") == 296
    assert field_from_member("a/b/field_296.csv") is None


def test_zip_name_encodes_the_field_count():
    assert catalog_zip_name(77) == "predictions_dnn_xgb_77_fields.zip"
    assert is_catalog_zip_name("predictions_dnn_xgb_77_fields.zip")
    assert not is_catalog_zip_name("trained_dnn_models.zip")


@given(st.sets(st.integers(1, 1897), max_size=80))
def test_fields_json_round_trips_and_matches_json_dump(fields):
    import json

    data = dump_fields_json(fields)
    assert data == json.dumps(sorted(fields)).encode()
    assert not data.endswith(b"\n")
    assert parse_fields_json(data) == sorted(fields)


def test_fields_json_reads_the_2024_string_form():
    assert parse_fields_json('["field_297", "field_296", 296]') == [296, 297]
    with pytest.raises(ValueError):
        parse_fields_json('["field_x"]')
    with pytest.raises(ValueError):
        parse_fields_json("[true]")


def test_field_ranges():
    assert is_valid_field_number(1) and is_valid_field_number(881) and is_valid_field_number(1001)
    assert not is_valid_field_number(0) and not is_valid_field_number(900) and not is_valid_field_number(1898)


def test_sample_is_deterministic_and_well_formed():
    a = field_csv_bytes(487, 50, seed=2)
    assert a == field_csv_bytes(487, 50, seed=2)
    assert a != field_csv_bytes(487, 50, seed=3)
    rows = list(csv.reader(io.StringIO(a.decode())))
    assert tuple(rows[0]) == ALL_COLUMNS
    assert len(rows) == 51 and all(len(r) == 99 for r in rows)
    ids = [r[0] for r in rows[1:]]
    assert len(set(ids)) == 50 and all(i.startswith("10487") and len(i) == 14 for i in ids)
    assert all(r[7] == "487" for r in rows[1:])
    assert a.endswith(b"\n") and b"\r" not in a
