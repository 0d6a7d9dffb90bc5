"""After examples/activate ran against the standalone fake, exchangelib (an
independent EWS client) impersonates each activated user and checks what
activation provisioned: each planned folder exists exactly once under its
parent with its folder class, and the master category list (the CategoryList
user configuration on the calendar folder) holds the category with its colour.

Usage: exchangelib_activated.py [--removed] URL AUTH SERVICE PASSWORD SYSTEM USER[,USER...]
where SYSTEM is the other system's name the default plan was made for. With
--removed (after deactivation with removal) it checks that none of the
folders and no category of that name is left.
"""
import sys
import xml.etree.ElementTree as ET

from exchangelib import (BASIC, NTLM, IMPERSONATION, Account, Configuration,
                         Credentials)
from exchangelib.properties import UserConfigurationNameMNS
from exchangelib.services import GetUserConfiguration


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    removed = args[:1] == ["--removed"]
    if removed:
        args = args[1:]
    url, auth, svc, pw, system, users = args[:6]
    want = 0 if removed else 1
    auth_type = {"basic": BASIC, "ntlm": NTLM}[auth]
    cfg = Configuration(service_endpoint=url, credentials=Credentials(svc, pw), auth_type=auth_type)
    for user in users.split(","):
        a = Account(user, config=cfg, autodiscover=False, access_type=IMPERSONATION)
        planned = [
            (a.contacts, system + " Contacts", "IPF.Contact"),
            (a.tasks, system + " Tasks", "IPF.Task"),
            (a.msg_folder_root, system, "IPF.Note"),
        ]
        for parent, name, cls in planned:
            same = [f for f in parent.children if f.name == name]
            if len(same) != want:
                fail("%s: %d folders named %r under %s, want exactly %d" % (user, len(same), name, parent.name, want))
            if want and same[0].folder_class != cls:
                fail("%s: folder %r has class %r, want %r" % (user, name, same[0].folder_class, cls))
        name = UserConfigurationNameMNS(name="CategoryList", folder=a.calendar)
        got = list(GetUserConfiguration(account=a).call(user_configuration_name=name, properties="All"))
        if len(got) != 1 or isinstance(got[0], Exception):
            fail("%s: GetUserConfiguration CategoryList: %r" % (user, got))
        xml = got[0].xml_data
        if not xml:
            fail("%s: CategoryList has no XmlData" % user)
        root = ET.fromstring(xml)
        cats = [e for e in root.iter() if e.tag.split("}")[-1] == "category" and e.get("name") == system]
        if len(cats) != want:
            fail("%s: master category list holds %d categories named %r, want %d: %s" % (user, len(cats), system, want, xml[:300]))
        if removed:
            print("%s: no folder and no category %r left" % (user, system))
        else:
            print("%s: 3 folders, category %r colour %s" % (user, system, cats[0].get("color")))
    print("exchangelib sees the %s of %d mailboxes" % ("removal" if removed else "provisioning", len(users.split(","))))


if __name__ == "__main__":
    main()
