"""`cpwx serve`: the job API and the review page, over the job directories (extra `[serve]`)."""
