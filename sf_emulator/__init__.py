"""A local, wire-level stand-in for the part of Salesforce that Response Desk uses.

    with run_emulator(seed="empty") as emu:
        emu.base_url, emu.ca_path, emu.org, emu.request_log, emu.faults
"""
from .emulator import Emulator
from .runner import EmulatorServer, run_emulator

__all__ = ["Emulator", "EmulatorServer", "run_emulator"]
