"""Course discussions and open boards (党员网上论坛): threads, replies, quotes, likes, mentions,
reports and moderation by the secretaries of the author's subtree."""
from flask import Blueprint

bp = Blueprint("community", __name__)
