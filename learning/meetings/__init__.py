"""Confirmed offline study (集中学习 / 主题党日): meetings held in person, recorded by a secretary."""
from flask import Blueprint

bp = Blueprint("meetings", __name__)
