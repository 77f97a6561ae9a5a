"""The system-test harness: every Counter Promo service as a real process on 127.0.0.1."""
