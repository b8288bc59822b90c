#pragma once
// Laptop labels (issue 16): what goes on the sticker under a refurbished laptop, from what the
// server knows of it (its inventory, the grade its test step reported, its newest laptop
// certificate), and the link its QR code carries. The link opens that certificate for whoever
// holds the label, without an operator login: it names the certificate and a key taken from
// its signature, which only the label (or the signed document) shows.

#include <cstdint>
#include <string>
#include <vector>

#include "domain/certificates.hpp"
#include "domain/context.hpp"
#include "label_pdf.hpp"

namespace revive::server {

/// The label's words in the workshop's language (server/web/i18n/<lang>.json, "label.*").
struct LabelWords {
  std::string grade = "Grade";
  std::string asset = "Asset";
  std::string serial = "S/N";
  std::string ram = "RAM";
  std::string battery = "Battery";
  std::string no_battery = "No battery";
  std::string windows11_ready = "Windows 11 ready";
  std::string windows11_not = "Not for Windows 11";
  std::string certificate = "Erasure certificate";
};

/// What the label of this laptop says. `grading` is the test step's grading object (null
/// when not graded); `link` the QR target ("" for none). Pure.
cert::LabelFacts label_facts(const DeviceRow& device, const Json& inventory, const Json& grading,
                             const std::string& link, const std::string& workshop,
                             const LabelWords& words);

/// The key a certificate's public link carries: the first 22 characters (132 bits) of its
/// signature, URL-safe. "" when the document has no signature. Pure.
std::string certificate_link_key(const std::string& signed_document);

class Labels {
 public:
  Labels(DomainContext& ctx, Certificates& certificates) : ctx_(ctx), certificates_(certificates) {}

  /// The label PDF of one laptop; links start with `link_base` ("https://host:port").
  /// not_found for an unknown device, io on a storage failure.
  Result<std::string> device_label(std::int64_t device, cert::LabelStock stock,
                                   const std::string& link_base, const LabelWords& words);
  /// The labels of every laptop of a batch that has a laptop certificate, in id order.
  /// not_found for an unknown batch or one with no certified laptop yet.
  Result<std::string> batch_labels(const std::string& batch, cert::LabelStock stock,
                                   const std::string& link_base, const LabelWords& words);
  /// The PDF a label's link opens: the certificate, or the one that superseded it (a second
  /// volunteer's re-verification has the last word). not_found for an unknown id or a key
  /// that does not match (the same answer: ids cannot be probed).
  Result<Document> linked_certificate(const std::string& cert_id, const std::string& key);

 private:
  /// The label of `device` whose QR code opens `link` ("" for none).
  Result<cert::LabelFacts> facts(std::int64_t device, const std::string& link,
                                 const std::string& workshop, const LabelWords& words);

  DomainContext& ctx_;
  Certificates& certificates_;
};

}  // namespace revive::server
