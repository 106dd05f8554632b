// SPDX-License-Identifier: GPL-2.0-or-later

// Package dnsname writes domain names in DNS wire format (RFC 1035 §3.1)
// for the options that carry them: the DHCP client FQDN (option 81) and
// domain search list (option 119, RFC 3397), the DHCPv6 domain list
// (option 24) and FQDN (option 39), and the NDP DNS search list option
// (DNSSL, RFC 8106 §5.2). Counterpart of opt_set_dns_search() in passt's
// dhcp.c, dhcpv6_dns_fill() in dhcpv6.c and the DNSSL part of ndp.c,
// without their in-place rewriting of dots.
//
// # Theory of operation
//
// A name is given as text, "example.com" or "example.com." (one trailing
// dot is dropped, Trim). WireLen validates it: the root alone, an empty
// label, a label over 63 bytes or a wire form over 255 bytes make it
// invalid, and the callers skip such a name rather than send it. Put
// writes one name uncompressed: a length byte per label, the label, then
// the zero byte of the root, as RFC 8415 §10 requires for DHCPv6 and RFC
// 8106 for DNSSL.
//
// PutList writes a list of names with the message compression of RFC 1035
// §4.1.4, which RFC 3397 §2 allows in DHCP option 119: for each name, the
// longest suffix already written (compared case-insensitively) is replaced
// by a two-byte pointer to it. Pointer chasing while matching is bounded,
// so is the number of names (MaxListNames) and of remembered label starts;
// names that are invalid or no longer fit are skipped.
//
// Decode reads such a list back. The encoders do not use it: it is the
// independent reference the tests and fuzz targets (here and in
// proto/dhcp) check the encoders against, and it allocates.
//
// Nothing here allocates except Decode; everything writes into a buffer
// the caller owns and never past its end.
package dnsname
