"""Roster import: Excel/CSV files of members, previewed row by row, then committed whole."""
from flask import Blueprint

bp = Blueprint("roster", __name__)
