"""Data sources (FER2013 CSV, image folders, generated faces) and how a run samples them."""
