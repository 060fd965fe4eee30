"""Learning plans: the member's plan (required courses, then recommendations), dismissals
(不感兴趣), and training the recommender on the academy's data."""
from flask import Blueprint

bp = Blueprint("plans", __name__)
