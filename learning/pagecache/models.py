"""The academy-wide page epoch: one row, bumped by writes that may change every member's pages
(the catalogue, assignments, targets, the organization tree)."""
from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from learning.extensions import db


class PageEpoch(db.Model):
    __tablename__ = "page_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
