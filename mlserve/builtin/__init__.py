"""Built-in models: sentence encoders and the intent classifier (numpy, scikit-learn, torch
on the CPU). Nothing here touches the database: mlserve/services.py does."""
