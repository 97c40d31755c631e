"""EWS on the wire: SOAP namespaces and the response documents of the EWS reference (GetFolder,
CreateItem, FindItem with a ServerVersionInfo header), shared by the transport tests and the fault tests."""

from __future__ import annotations

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
NS = {"s": SOAP, "m": M, "t": T}

ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header>
    <h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6"
      Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"
      xmlns="http://schemas.microsoft.com/exchange/services/2006/types"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>
  </s:Header>
  <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    {body}
  </s:Body>
</s:Envelope>"""

MT = ('xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
      'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"')


def get_folder_response(distinguished_id: str) -> str:
    name = {"root": "Top of Information Store", "sentitems": "Sendt post"}.get(distinguished_id, distinguished_id)
    return f"""<m:GetFolderResponse {MT}>
      <m:ResponseMessages>
        <m:GetFolderResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:Folders>
            <t:Folder>
              <t:FolderId Id="AAMkADk0{distinguished_id}AAA=" ChangeKey="AQAAABYAAAA"/>
              <t:ParentFolderId Id="AAMkADk0rootAAA=" ChangeKey="AQAAAA=="/>
              <t:FolderClass>IPF.Note</t:FolderClass>
              <t:DisplayName>{name}</t:DisplayName>
              <t:TotalCount>3</t:TotalCount>
              <t:ChildFolderCount>0</t:ChildFolderCount>
              <t:EffectiveRights><t:CreateAssociated>true</t:CreateAssociated><t:CreateContents>true</t:CreateContents>
                <t:CreateHierarchy>true</t:CreateHierarchy><t:Delete>true</t:Delete><t:Modify>true</t:Modify>
                <t:Read>true</t:Read><t:ViewPrivateItems>true</t:ViewPrivateItems></t:EffectiveRights>
              <t:UnreadCount>0</t:UnreadCount>
            </t:Folder>
          </m:Folders>
        </m:GetFolderResponseMessage>
      </m:ResponseMessages>
    </m:GetFolderResponse>"""


CREATE_ITEM_OK = f"""<m:CreateItemResponse {MT}>
      <m:ResponseMessages>
        <m:CreateItemResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:Items/>
        </m:CreateItemResponseMessage>
      </m:ResponseMessages>
    </m:CreateItemResponse>"""


def find_item_response(item_ids: list[str]) -> str:
    items = "".join(
        f'<t:Message><t:ItemId Id="{item_id}" ChangeKey="CQAAABYAAAB"/></t:Message>' for item_id in item_ids
    )
    return f"""<m:FindItemResponse {MT}>
      <m:ResponseMessages>
        <m:FindItemResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:RootFolder IndexedPagingOffset="{len(item_ids)}" TotalItemsInView="{len(item_ids)}"
                        IncludesLastItemInRange="true">
            <t:Items>{items}</t:Items>
          </m:RootFolder>
        </m:FindItemResponseMessage>
      </m:ResponseMessages>
    </m:FindItemResponse>"""
