"""STAND-IN for Raspberry Pi OS's picamera2, built by emotune's deploy/check-arm64.sh.

The real package comes from Raspberry Pi OS's apt repository, which the check cannot reach. This one is
importable (the venv is created with --system-site-packages, as on a Pi) and behaves like a Pi with no
camera attached: Picamera2() raises RuntimeError("no camera"). The check then switches the daemon to a
replay camera.
"""

STANDIN = True


class Picamera2:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("no camera (emotune check-arm64 stand-in for python3-picamera2)")

    @staticmethod
    def global_camera_info():
        return []
