"""What the help desk reports to its organisers and their partners."""
