"""The course catalog: courses and lessons as members see them, and their media."""
from flask import Blueprint

bp = Blueprint("catalog", __name__)

