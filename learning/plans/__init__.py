"""Learning plans: training the recommender on the academy's data and turning it into plans."""
