#!/usr/bin/python3
"""A real XMPP client (slixmpp, Debian's python3-slixmpp) for the component
tests: logs in over STARTTLS (the server's certificate checked against the
test's own CA file), then runs the checks asked for against a component and
prints one line per check, "ok NAME" or "FAIL NAME: why". Exit status 0
only when every check passed.

usage: xmpp_client.py JID PASSWORD HOST PORT CAFILE COMPONENT CHECK...
checks: echo (a chat message comes back with from/to swapped and the same
body), iq (an IQ get in urn:stanza:tutorial gets its result with the
tutorial's <response/>), disco (disco#info lists the component's identity).
"""
import asyncio
import sys
import uuid
import xml.etree.ElementTree as ET

import slixmpp

NS_TUTORIAL = "urn:stanza:tutorial"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
TIMEOUT = 20


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile, component, checks):
        super().__init__(jid, password)
        self.ca_certs = cafile
        self.component = component
        self.checks = checks
        self.failures = 0
        self.passed = 0
        self.echoes = {}
        self.register_plugin("xep_0030")
        self.add_event_handler("session_start", self.session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", self.on_failed_auth)

    def report(self, name, why=None):
        if why is None:
            self.passed += 1
            print("ok", name, flush=True)
        else:
            self.failures += 1
            print("FAIL %s: %s" % (name, why), flush=True)

    def on_failed_auth(self, _event):
        self.report("login", "authentication failed")
        self.disconnect()

    def on_message(self, msg):
        future = self.echoes.pop(msg["body"], None)
        if future is not None and not future.done():
            future.set_result(msg)

    async def session_start(self, _event):
        self.report("login")
        for check in self.checks:
            try:
                why = await asyncio.wait_for(getattr(self, "check_" + check)(), TIMEOUT)
            except Exception as e:  # a timeout or an IQ error is a failed check
                why = "%s: %s" % (type(e).__name__, e)
            self.report(check, why)
        self.disconnect()

    async def check_echo(self):
        body = "echo " + uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self.echoes[body] = future
        self.send_message(mto=self.component, mbody=body, mtype="chat")
        msg = await future
        if msg["from"].bare != self.component:
            return "echo came from %s" % msg["from"]
        if msg["to"].bare != self.boundjid.bare:
            return "echo went to %s" % msg["to"]
        return None

    async def check_iq(self):
        iq = self.Iq()
        iq["type"] = "get"
        iq["to"] = self.component
        iq.xml.append(ET.Element("{%s}query" % NS_TUTORIAL))
        resp = await iq.send(timeout=TIMEOUT)
        path = "{%s}query/{%s}response" % (NS_TUTORIAL, NS_TUTORIAL)
        text = resp.xml.findtext(path)
        if resp["type"] != "result" or text != "your iq has been received":
            return "unexpected answer %s" % resp
        return None

    async def check_disco(self):
        info = await self["xep_0030"].get_info(jid=self.component, timeout=TIMEOUT)
        identities = info["disco_info"]["identities"]
        if not any(cat == "component" for (cat, _type, _lang, _name) in identities):
            return "no component identity in %s" % (identities,)
        if NS_DISCO_INFO not in info["disco_info"]["features"]:
            return "disco#info not among the features"
        return None


def main():
    jid, password, host, port, cafile, component = sys.argv[1:7]
    client = Client(jid, password, cafile, component, sys.argv[7:])
    client.connect(address=(host, int(port)), force_starttls=True)
    # slixmpp 1.8's process(timeout=...) fails on Python 3.11: wait for
    # the disconnection ourselves, bounded
    total = TIMEOUT * (len(sys.argv[7:]) + 2)
    try:
        client.loop.run_until_complete(asyncio.wait_for(client.disconnected, total))
    except asyncio.TimeoutError:
        print("FAIL no disconnection within %d s" % total, flush=True)
    # every check and the login itself must have said ok: a client that
    # never got in passes nothing
    everything = client.failures == 0 and client.passed == len(sys.argv[7:]) + 1
    sys.exit(0 if everything else 1)


if __name__ == "__main__":
    main()
